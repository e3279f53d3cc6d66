package iostreams

import "testing"

func TestColorFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		tty  bool
		want bool
	}{
		{"tty default", nil, true, true},
		{"pipe default", nil, false, false},
		{"NO_COLOR on tty", []string{"NO_COLOR=1"}, true, false},
		{"CLICOLOR=0 on tty", []string{"CLICOLOR=0"}, true, false},
		{"CLICOLOR_FORCE on pipe", []string{"CLICOLOR_FORCE=1"}, false, true},
		{"CLICOLOR_FORCE=0 on pipe", []string{"CLICOLOR_FORCE=0"}, false, false},
	}
	for _, tt := range tests {
		if got := colorFromEnv(tt.env, tt.tty); got != tt.want {
			t.Errorf("%s: colorFromEnv = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestColorSchemeOff(t *testing.T) {
	s, _, _, _ := Test()
	if got := s.ColorScheme().Red("x"); got != "x" {
		t.Errorf("colour off: Red(x) = %q, want plain x", got)
	}
	s.SetColorEnabled(true)
	if got := s.ColorScheme().Red("x"); got != "\x1b[31mx\x1b[0m" {
		t.Errorf("colour on: Red(x) = %q", got)
	}
}
