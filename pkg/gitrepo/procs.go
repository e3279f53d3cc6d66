package gitrepo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// What runs on this machine, as far as /proc shows it: whether a git or
// another ringflow may still be working in a repository, so that what a
// killed one left behind (a lock file, a scratch checkout) can be told
// from what a live one holds.

// proc is one running process, as far as /proc shows it.
type proc struct {
	pid      int
	comm     string
	cwd      string   // "" when unreadable
	args     []string // command line
	env      []string // GIT_* and RINGFLOW_* variables
	fds      []string // open files; read for ringflow processes only
	readable bool     // cwd and command line could be read
}

// Procs is every process at one moment, this process and those that
// started it left out. Where /proc is not there to read (not Linux)
// nothing can be said about processes: every question is answered "yes".
type Procs struct {
	ok    bool
	procs []proc
	mine  map[int]bool // this process and those that started it
}

// ScanProcs reads the process table.
func ScanProcs() Procs {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return Procs{}
	}
	if _, err := os.Stat("/proc/self/cwd"); err != nil {
		return Procs{}
	}
	t := Procs{ok: true, mine: ancestry()}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || t.mine[pid] {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		comm, err := os.ReadFile(filepath.Join(dir, "comm"))
		if err != nil {
			continue // gone already
		}
		p := proc{pid: pid, comm: strings.TrimSpace(string(comm)), readable: true}
		if p.cwd, err = os.Readlink(filepath.Join(dir, "cwd")); err != nil {
			if !errors.Is(err, fs.ErrPermission) {
				continue // exited (a zombie has no working directory)
			}
			p.readable = false
		}
		if b, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil {
			p.args = strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		} else if errors.Is(err, fs.ErrPermission) {
			p.readable = false
		} else {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(dir, "environ")); err == nil {
			for _, kv := range strings.Split(string(b), "\x00") {
				if strings.HasPrefix(kv, "GIT_") || strings.HasPrefix(kv, "RINGFLOW_") {
					p.env = append(p.env, kv)
				}
			}
		}
		if p.ringflow() {
			fds, _ := os.ReadDir(filepath.Join(dir, "fd"))
			for _, fd := range fds {
				if l, err := os.Readlink(filepath.Join(dir, "fd", fd.Name())); err == nil {
					p.fds = append(p.fds, l)
				}
			}
		}
		if _, err := os.Stat(dir); err != nil {
			continue // exited while being read: it holds nothing
		}
		t.procs = append(t.procs, p)
	}
	return t
}

func (p proc) git() bool      { return strings.HasPrefix(p.comm, "git") }
func (p proc) ringflow() bool { return strings.Contains(p.comm, "ringflow") }

// ancestry is this process and every process above it.
func ancestry() map[int]bool {
	mine := map[int]bool{}
	for pid := os.Getpid(); pid > 1 && !mine[pid]; {
		mine[pid] = true
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			break
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			break
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			break
		}
		if pid, err = strconv.Atoi(f[1]); err != nil {
			break
		}
	}
	return mine
}

// mentions says whether p works in one of dirs: its working directory, an
// argument, a GIT_* or RINGFLOW_* variable or an open file lies there.
func (p proc) mentions(dirs []string) bool {
	for _, d := range dirs {
		if p.cwd != "" && within(p.cwd, d) {
			return true
		}
		for _, a := range p.args {
			if strings.Contains(a, d) {
				return true
			}
		}
		for _, kv := range p.env {
			if strings.Contains(kv, d) {
				return true
			}
		}
		for _, f := range p.fds {
			if within(f, d) {
				return true
			}
		}
	}
	return false
}

// Visible says whether processes could be seen at all (/proc was there).
func (t Procs) Visible() bool { return t.ok }

// GitIn says whether a git process may be working in one of dirs (real
// paths). One that cannot be looked into counts as working there; so does
// everything when processes cannot be seen at all.
func (t Procs) GitIn(dirs []string) bool { return t.anyIn(dirs, proc.git, true) }

// RingflowIn says whether another ringflow process may be working in one
// of dirs (by its working directory, arguments, environment or open
// files).
func (t Procs) RingflowIn(dirs []string) bool { return t.anyIn(dirs, proc.ringflow, true) }

// UsedBy says whether any process at all works in one of dirs.
func (t Procs) UsedBy(dirs []string) bool {
	return t.anyIn(dirs, func(proc) bool { return true }, false)
}

// anyIn says whether a process of kind works in one of dirs; unreadable
// says whether one that cannot be looked into counts as working there.
func (t Procs) anyIn(dirs []string, kind func(proc) bool, unreadable bool) bool {
	if !t.ok {
		return true
	}
	for _, p := range t.procs {
		if kind(p) && ((unreadable && !p.readable) || p.mentions(dirs)) {
			return true
		}
	}
	return false
}

// LockHeld says whether some process holds the named lock of this
// repository (see Lock), by /proc/locks; unknown counts as yes.
func (r *Repo) LockHeld(name string) bool {
	return flocked(filepath.Join(realPath(r.commonDir), "ringflow-"+name+".lock"))
}

// flocked says whether some process holds an flock on path, by
// /proc/locks; unknown counts as yes.
func flocked(path string) bool {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	b, rerr := os.ReadFile("/proc/locks")
	if err != nil || !ok || rerr != nil {
		return true
	}
	dev := uint64(st.Dev)
	// "1: FLOCK  ADVISORY  WRITE 923 fe:00:9558685 0 EOF": major:minor:inode.
	want := fmt.Sprintf(":%d", st.Ino)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || f[1] != "FLOCK" || !strings.HasSuffix(f[5], want) {
			continue
		}
		parts := strings.Split(f[5], ":")
		if len(parts) != 3 {
			continue
		}
		maj, err1 := strconv.ParseUint(parts[0], 16, 32)
		min, err2 := strconv.ParseUint(parts[1], 16, 32)
		if err1 != nil || err2 != nil || parts[2] != strconv.FormatUint(st.Ino, 10) {
			continue
		}
		if unixMkdev(maj, min) == dev {
			return true
		}
	}
	return false
}

// unixMkdev packs a device number as Linux's makedev does.
func unixMkdev(major, minor uint64) uint64 {
	return (major&0x00000fff)<<8 | (major&0xfffff000)<<32 | (minor&0x000000ff)<<0 | (minor&0xffffff00)<<12
}
