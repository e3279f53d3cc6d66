package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseBound reads a time bound of a build (build.timeout,
// build.max-silent, and the flags that override them): a duration with
// its unit ("90m", "2h", "1d"), or "none" or "0" for no bound. Nix counts
// in whole seconds, so a bound has at least one.
func ParseBound(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" || strings.EqualFold(s, "none") {
		return 0, nil
	}
	d, err := parseDuration(s)
	_, numErr := strconv.ParseFloat(s, 64)
	switch {
	case err != nil && numErr == nil:
		return 0, fmt.Errorf("write a duration with a unit, e.g. 2h (or none: no bound), got %q", s)
	case err != nil:
		return 0, fmt.Errorf("want a duration such as 90m or 2h, or none (no bound), got %q", s)
	case d == 0:
		return 0, nil
	case d < 0:
		return 0, fmt.Errorf("must not be negative, got %q (none: no bound)", s)
	case d < time.Second:
		return 0, fmt.Errorf("want at least 1s (nix counts whole seconds), or none (no bound), got %q", s)
	}
	return d, nil
}

// bound decodes a time bound of a build; see ParseBound. A YAML number is
// read as written: 0 is no bound, any other lacks its unit.
func (d *decoder) bound(key string, v any) (time.Duration, bool) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case int, int64, uint64:
		s = fmt.Sprint(x)
	default:
		d.addf(key, "want a duration such as 90m or 2h, or none (no bound), got %s", show(v))
		return 0, false
	}
	b, err := ParseBound(s)
	if err != nil {
		d.addf(key, "%v", err)
		return 0, false
	}
	return b, true
}
