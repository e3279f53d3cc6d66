package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// FileName is the name searched for in each search directory.
const FileName = "ringflow.yaml"

// envPrefix starts every environment variable ringflow reads for a key.
const envPrefix = "RINGFLOW_"

// LoadOptions says where the config comes from. Load reads nothing from
// the process environment or working directory that is not named here,
// so tests can fix all of it.
type LoadOptions struct {
	// File is --config. "" searches SearchPaths for ringflow.yaml.
	File string
	// Dir is the directory a relative File or search directory is
	// resolved against; "" is the process's working directory.
	Dir string
	// Env is the environment as KEY=VALUE (os.Environ() in production).
	// RINGFLOW_<KEY>, XDG_CONFIG_HOME and HOME are read from here.
	Env []string
	// Flags may be nil. A changed flag named like a key ("repo",
	// "remote", "flake-dir") or like a nested key with "-" for "."
	// ("build-jobs") overrides env and file.
	Flags *pflag.FlagSet
	// SearchPaths are the directories searched, first hit wins. nil means
	// ".", $XDG_CONFIG_HOME/ringflow (default ~/.config/ringflow) and
	// /etc/ringflow.
	SearchPaths []string
}

// scalarKeys are the keys env and flags can set, in file order. rings is
// not among them: a list of rings has no sensible one-line spelling, so
// it is only ever read from the file.
var scalarKeys = []string{
	"repo", "remote", "flake-dir", "dev", "branch-prefix",
	"update.inputs", "update.author",
	"build.attribute", "build.jobs", "build.builders", "build.cache", "build.nix-args",
	"build.eval-workers", "build.eval-memory", "build.timeout", "build.max-silent",
	"gates.signed-by",
}

// listKeys take a list; from env or a plain string flag the value is split
// on whitespace and commas.
var listKeys = map[string]bool{"update.inputs": true, "build.nix-args": true}

// EnvName returns the environment variable that sets key, e.g.
// "build.nix-args" -> "RINGFLOW_BUILD_NIX_ARGS".
func EnvName(key string) string {
	return envPrefix + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
}

// Default returns the configuration used when no file sets a key. It has
// no rings.
func Default() *Config {
	return &Config{
		Repo:     ".",
		Remote:   "origin",
		FlakeDir: ".",
		Dev:      "dev",
		Update:   Update{Author: "ringflow <ringflow@localhost>"},
		Build: Build{Attribute: "config.system.build.toplevel", Jobs: "auto", EvalMemory: DefaultEvalMemory,
			Timeout: DefaultBuildTimeout},
	}
}

// Load finds, reads, decodes and validates the config, with precedence
// default < file < env < flag. No file in the search path is not an
// error: the result has no rings and File "", and commands that need
// rings say so. A file without rings is an error.
//
// Paths in the config (repo, flake-dir, gates.signed-by) are kept as
// written, only cleaned: a relative repo is relative to the directory
// ringflow runs in, not to the config file.
func Load(opts LoadOptions) (*Config, error) {
	env := envMap(opts.Env)
	file, err := locate(opts, env)
	if err != nil {
		return nil, err
	}

	settings := map[string]any{}
	if file != "" {
		// One instance per Load: viper's global would leak state between
		// loads and between tests.
		v := viper.New()
		v.SetConfigFile(file)
		v.SetConfigType("yaml") // whatever --config is called, it is YAML
		if err := v.ReadInConfig(); err != nil {
			var perr viper.ConfigParseError
			if errors.As(err, &perr) {
				src, _ := os.ReadFile(file)
				return nil, &Error{File: file, Problems: yamlProblems(file, src, perr.Unwrap()), Err: err}
			}
			if errors.Is(err, fs.ErrNotExist) {
				return nil, &Error{File: file, Problems: []Problem{{Message: "file not found"}}, Err: &NotFoundError{File: file, Err: err}}
			}
			if fi, serr := os.Stat(file); serr == nil && fi.IsDir() {
				return nil, &Error{File: file, Problems: []Problem{{Message: "is a directory, not a file"}}, Err: err}
			}
			return nil, fmt.Errorf("config %s: %w", file, err)
		}
		// AllSettings drops top-level and section keys whose value is null
		// or {}: "remote:" with nothing after it leaves the default, and an
		// empty misspelt section goes unreported, having no effect. Inside
		// rings nothing is dropped.
		settings = v.AllSettings()
	}

	d := &decoder{src: map[string]string{}, literal: map[string]string{}, converges: map[string]bool{}, unhealthy: map[string]bool{},
		file: file, lines: lineIndex{}}
	if file != "" {
		// Read again for the lines, which viper's settings do not keep.
		if src, err := os.ReadFile(file); err == nil {
			d.lines = indexLines(src)
		}
	}
	override(settings, env, opts.Flags, d.src)
	c := d.decode(settings, file != "")
	c.File = file
	if len(d.probs) > 0 {
		// In the order of the file's lines; a problem of the whole file,
		// or from env or a flag, first.
		sort.SliceStable(d.probs, func(i, j int) bool { return d.probs[i].Pos.Line < d.probs[j].Pos.Line })
		return nil, &Error{File: file, Problems: d.probs}
	}
	return c, nil
}

// yamlProblems turns a YAML error into problems at their lines: the
// decoder's multi-line "unmarshal errors" one per line, each at its line
// (and the one a non-mapping document gives reworded, as it names Go
// types); a syntax error at the line an editor shows for it.
func yamlProblems(file string, src []byte, err error) []Problem {
	msg := err.Error()
	rest, multi := strings.CutPrefix(msg, "yaml: unmarshal errors:\n")
	if !multi {
		p := Problem{Message: msg, Pos: Pos{File: file}}
		if !strings.Contains(msg, "excessive aliasing") {
			p.Pos.Line = syntaxLine(src, err)
		}
		if p.Pos.Line > 0 {
			// The parser's own "line N" is wrong more often than not; the
			// position says the right one.
			p.Message = yamlLineRE.ReplaceAllString(msg, "yaml: ")
		}
		return []Problem{p}
	}
	var ps []Problem
	for _, line := range strings.Split(rest, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if at, _, ok := strings.Cut(line, ": cannot unmarshal"); ok && strings.HasSuffix(line, "into map[string]interface {}") {
			line = at + ": want a mapping of keys such as rings, dev, build"
		}
		p := Problem{Message: line, Pos: Pos{File: file}}
		if m := unmarshalLineRE.FindStringSubmatch(line); m != nil {
			p.Pos.Line, _ = strconv.Atoi(m[1])
			p.Message = strings.TrimPrefix(line, m[0])
		}
		ps = append(ps, p)
	}
	return ps
}

// locate returns the config file to read, or "" when a search finds none.
func locate(opts LoadOptions, env map[string]string) (string, error) {
	if opts.File != "" {
		f := opts.File
		if opts.Dir != "" && !filepath.IsAbs(f) {
			f = filepath.Join(opts.Dir, f)
		}
		return f, nil
	}
	dirs := opts.SearchPaths
	if dirs == nil {
		dirs = defaultSearchPaths(env)
	}
	for _, d := range dirs {
		if opts.Dir != "" && !filepath.IsAbs(d) {
			d = filepath.Join(opts.Dir, d)
		}
		f := filepath.Join(d, FileName)
		// An unreadable directory on the way is as good as no file there.
		if fi, err := os.Stat(f); err == nil && !fi.IsDir() {
			return f, nil
		}
	}
	return "", nil
}

func defaultSearchPaths(env map[string]string) []string {
	dirs := []string{"."}
	// The XDG base directory spec says to ignore a relative XDG_CONFIG_HOME.
	if x := env["XDG_CONFIG_HOME"]; filepath.IsAbs(x) {
		dirs = append(dirs, filepath.Join(x, "ringflow"))
	} else if h := env["HOME"]; h != "" {
		dirs = append(dirs, filepath.Join(h, ".config", "ringflow"))
	}
	return append(dirs, "/etc/ringflow")
}

// envMap indexes KEY=VALUE pairs; a later pair wins, as with os/exec.
func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// override writes env, then changed flags, over the file's settings and
// records in src where each overridden key came from. Env is applied here
// rather than by viper.AutomaticEnv because it must come from
// LoadOptions.Env, not the process; an empty value counts (RINGFLOW_REMOTE=
// means local branches only).
func override(settings map[string]any, env map[string]string, flags *pflag.FlagSet, src map[string]string) {
	for _, key := range scalarKeys {
		var val any
		name := EnvName(key)
		s, ok := env[name]
		if ok {
			val = s
			if listKeys[key] {
				val = splitList(s)
			}
		}
		if f := changedFlag(flags, key); f != nil {
			ok, name = true, "--"+f.Name
			val = f.Value.String()
			if sv, isSlice := f.Value.(pflag.SliceValue); isSlice && listKeys[key] {
				val = toAny(sv.GetSlice())
			} else if listKeys[key] {
				val = splitList(f.Value.String())
			}
		}
		if !ok {
			continue
		}
		if setPath(settings, key, val) {
			src[key] = name
		}
	}
}

func changedFlag(flags *pflag.FlagSet, key string) *pflag.Flag {
	if flags == nil {
		return nil
	}
	for _, name := range []string{key, strings.ReplaceAll(key, ".", "-")} {
		if f := flags.Lookup(name); f != nil && f.Changed {
			return f
		}
	}
	return nil
}

// setPath sets a key like "build.jobs" in nested settings. When the file
// has a non-mapping where the section should be, it leaves it alone for
// the decoder to report.
func setPath(settings map[string]any, key string, val any) bool {
	section, leaf, nested := strings.Cut(key, ".")
	if !nested {
		settings[key] = val
		return true
	}
	m, ok := settings[section].(map[string]any)
	if !ok {
		if settings[section] != nil {
			return false
		}
		m = map[string]any{}
		settings[section] = m
	}
	m[leaf] = val
	return true
}

func splitList(s string) []any {
	return toAny(strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	}))
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
