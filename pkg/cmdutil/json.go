package cmdutil

import (
	"encoding/json"
	"io"
)

// WriteJSON writes v as the one JSON document of a run: indented, with
// <, > and & left as they are.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
