package gitrepo

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// pgpConfig makes ed25519 keys (fast) at a fixed "now".
func pgpConfig(now time.Time) *packet.Config {
	return &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Time: func() time.Time { return now }}
}

func newKey(t *testing.T, name, email string, cfg *packet.Config) *openpgp.Entity {
	t.Helper()
	if cfg == nil {
		cfg = pgpConfig(time.Now().Add(-time.Hour))
	}
	e, err := openpgp.NewEntity(name, "", email, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func armoredPublic(t *testing.T, es ...*openpgp.Entity) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if err := e.Serialize(w); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func fingerprint(e *openpgp.Entity) string {
	return strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
}

// storeCommit writes a raw commit object with git hash-object (which
// checks its format) and returns its ID.
func storeCommit(f *fx, dir string, c *object.Commit) string {
	f.tb.Helper()
	o := &plumbing.MemoryObject{}
	if err := c.Encode(o); err != nil {
		f.tb.Fatal(err)
	}
	return storeRaw(f, dir, o)
}

func storeRaw(f *fx, dir string, o *plumbing.MemoryObject) string {
	f.tb.Helper()
	rd, err := o.Reader()
	if err != nil {
		f.tb.Fatal(err)
	}
	var raw bytes.Buffer
	if _, err := raw.ReadFrom(rd); err != nil {
		f.tb.Fatal(err)
	}
	return gitStdin(f, dir, raw.String(), "hash-object", "-t", "commit", "-w", "--stdin")
}

// sign signs c as `git commit -S` would: a detached armored signature over
// the commit encoded without it.
func sign(t *testing.T, c *object.Commit, e *openpgp.Entity, cfg *packet.Config) {
	t.Helper()
	o := &plumbing.MemoryObject{}
	if err := c.EncodeWithoutSignature(o); err != nil {
		t.Fatal(err)
	}
	rd, err := o.Reader()
	if err != nil {
		t.Fatal(err)
	}
	var sig bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&sig, e, rd, cfg); err != nil {
		t.Fatal(err)
	}
	c.PGPSignature = sig.String()
}

// baseCommit is an unsigned commit on dir's HEAD.
func baseCommit(f *fx, dir, msg string) *object.Commit {
	f.tb.Helper()
	head := f.run(dir, "rev-parse", "HEAD")
	sig := object.Signature{Name: "Dev", Email: "dev@example.com", When: time.Unix(1_750_000_000, 0).In(time.FixedZone("", 3600))}
	return &object.Commit{
		Author:       sig,
		Committer:    sig,
		Message:      msg,
		TreeHash:     plumbing.NewHash(f.run(dir, "rev-parse", "HEAD^{tree}")),
		ParentHashes: []plumbing.Hash{plumbing.NewHash(head)},
	}
}

func TestVerifySignature(t *testing.T) {
	f := newFx(t)
	dir := f.repo()
	alice := newKey(t, "Alice", "alice@example.com", nil)
	mallory := newKey(t, "Mallory", "mallory@example.com", nil)
	keyring := armoredPublic(t, alice)

	c := baseCommit(f, dir, "Update flake.lock\n\nRingflow-Carries: 0123456789abcdef0123456789abcdef01234567\n")
	sign(t, c, alice, nil)
	good := storeCommit(f, dir, c)

	tampered := *c
	tampered.Message = "Update flake.lock (evil)\n"
	bad := storeCommit(f, dir, &tampered)

	byMallory := baseCommit(f, dir, "mallory's commit\n")
	sign(t, byMallory, mallory, nil)
	unknown := storeCommit(f, dir, byMallory)

	unsigned := f.commit(dir, "x", "plain commit")
	f.run(dir, "fsck", "--strict")
	r := mustOpen(t, dir)

	s, err := r.VerifySignature(good, keyring)
	if err != nil {
		t.Fatalf("good: %v", err)
	}
	if want := (Signer{Fingerprint: fingerprint(alice), UserID: "Alice <alice@example.com>"}); s != want {
		t.Errorf("good: signer %+v, want %+v", s, want)
	}
	if len(s.Fingerprint) != 40 || strings.ToUpper(s.Fingerprint) != s.Fingerprint {
		t.Errorf("fingerprint %q: want 40 upper-case hex digits", s.Fingerprint)
	}

	_, err = r.VerifySignature(bad, keyring)
	var bse *BadSignatureError
	if !errors.As(err, &bse) || bse.Commit != bad {
		t.Errorf("tampered: %v (%T), want *BadSignatureError", err, err)
	} else if !strings.Contains(err.Error(), fingerprint(alice)) {
		t.Errorf("tampered: %v: want the key named", err)
	}

	_, err = r.VerifySignature(unknown, keyring)
	var uke *UnknownKeyError
	if !errors.As(err, &uke) {
		t.Errorf("unknown key: %v (%T), want *UnknownKeyError", err, err)
	} else {
		if uke.KeyID != mallory.PrimaryKey.KeyIdString() || len(uke.KeyID) != 16 {
			t.Errorf("unknown key: KeyID %q, want %s", uke.KeyID, mallory.PrimaryKey.KeyIdString())
		}
		if uke.Fingerprint != fingerprint(mallory) {
			t.Errorf("unknown key: Fingerprint %q, want %s", uke.Fingerprint, fingerprint(mallory))
		}
		if uke.Commit != unknown {
			t.Errorf("unknown key: Commit %q", uke.Commit)
		}
	}
	// With both keys in the keyring, Mallory's commit verifies as hers.
	if s, err := r.VerifySignature(unknown, armoredPublic(t, alice, mallory)); err != nil || s.Fingerprint != fingerprint(mallory) {
		t.Errorf("two-key keyring: %+v, %v", s, err)
	}

	_, err = r.VerifySignature(unsigned, keyring)
	if !errors.Is(err, ErrUnsigned) {
		t.Errorf("unsigned: %v, want ErrUnsigned", err)
	}
	if errors.As(err, &bse) || errors.As(err, &uke) {
		t.Errorf("unsigned: %v is also another kind", err)
	}

	// Revisions as ResolveCommit takes them; an unknown one is an error
	// of its own.
	f.run(dir, "branch", "signed", good)
	if _, err := r.VerifySignature("signed", keyring); err != nil {
		t.Errorf("by branch name: %v", err)
	}
	if _, err := r.VerifySignature("nope", keyring); !errors.Is(err, ErrUnknownRevision) {
		t.Errorf("unknown revision: %v", err)
	}
}

func TestVerifySignatureSubkeyExpiryRevocation(t *testing.T) {
	f := newFx(t)
	dir := f.repo()
	r := mustOpen(t, dir)
	now := time.Now()

	// A signing subkey signs; the signer is the primary key.
	t.Run("subkey", func(t *testing.T) {
		cfg := pgpConfig(now.Add(-time.Hour))
		e := newKey(t, "Sub Signer", "sub@example.com", cfg)
		if err := e.AddSigningSubkey(cfg); err != nil {
			t.Fatal(err)
		}
		c := baseCommit(f, dir, "signed by a subkey\n")
		sign(t, c, e, nil)
		blk, err := armor.Decode(strings.NewReader(c.PGPSignature))
		if err != nil {
			t.Fatal(err)
		}
		p, err := packet.Read(blk.Body)
		if err != nil {
			t.Fatal(err)
		}
		if id := *p.(*packet.Signature).IssuerKeyId; id != e.Subkeys[1].PublicKey.KeyId {
			t.Fatalf("signed by %X, not by the signing subkey %X", id, e.Subkeys[1].PublicKey.KeyId)
		}
		id := storeCommit(f, dir, c)
		s, err := r.VerifySignature(id, armoredPublic(t, e))
		if err != nil {
			t.Fatal(err)
		}
		if s.Fingerprint != fingerprint(e) || s.UserID != "Sub Signer <sub@example.com>" {
			t.Errorf("signer %+v", s)
		}
		// The subkey's ID is what an unknown-key error names.
		_, err = r.VerifySignature(id, armoredPublic(t, newKey(t, "Other", "o@example.com", nil)))
		var uke *UnknownKeyError
		if !errors.As(err, &uke) || uke.KeyID != e.Subkeys[1].PublicKey.KeyIdString() {
			t.Errorf("unknown subkey: %v", err)
		}
	})

	t.Run("expired", func(t *testing.T) {
		cfg := pgpConfig(now.Add(-2 * time.Hour))
		cfg.KeyLifetimeSecs = 3600
		e := newKey(t, "Expired", "old@example.com", cfg)
		c := baseCommit(f, dir, "signed while the key was valid\n")
		sign(t, c, e, pgpConfig(now.Add(-90*time.Minute)))
		id := storeCommit(f, dir, c)
		_, err := r.VerifySignature(id, armoredPublic(t, e))
		var bse *BadSignatureError
		if !errors.As(err, &bse) || !strings.Contains(bse.Reason, "expired") {
			t.Errorf("expired key: %v (%T)", err, err)
		}
		// At a time the key was valid, it verifies.
		raw := gitRaw(f, dir, "cat-file", "commit", id)
		el, err := readKeyRing(armoredPublic(t, e))
		if err != nil {
			t.Fatal(err)
		}
		if s, err := verifyCommitSignature(id, raw, el, now.Add(-80*time.Minute)); err != nil || s.Fingerprint != fingerprint(e) {
			t.Errorf("before expiry: %+v, %v", s, err)
		}
	})

	t.Run("revoked", func(t *testing.T) {
		e := newKey(t, "Revoked", "rev@example.com", nil)
		c := baseCommit(f, dir, "signed, then the key was revoked\n")
		sign(t, c, e, nil)
		id := storeCommit(f, dir, c)
		if _, err := r.VerifySignature(id, armoredPublic(t, e)); err != nil {
			t.Fatalf("before revocation: %v", err)
		}
		if err := e.RevokeKey(packet.KeyCompromised, "lost laptop", nil); err != nil {
			t.Fatal(err)
		}
		_, err := r.VerifySignature(id, armoredPublic(t, e))
		var bse *BadSignatureError
		if !errors.As(err, &bse) || !strings.Contains(bse.Reason, "revoked") {
			t.Errorf("revoked key: %v (%T)", err, err)
		}
	})
}

func TestVerifySignatureNotOpenPGP(t *testing.T) {
	f := newFx(t)
	dir := f.repo()
	r := mustOpen(t, dir)
	keyring := armoredPublic(t, newKey(t, "K", "k@example.com", nil))
	for name, sig := range map[string]string{
		"SSH":   "-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAg\n-----END SSH SIGNATURE-----\n",
		"X.509": "-----BEGIN SIGNED MESSAGE-----\nMIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwEAAKCA\n-----END SIGNED MESSAGE-----\n",
		"":      "some garbage\n",
	} {
		c := baseCommit(f, dir, "not OpenPGP: "+name+"\n")
		c.PGPSignature = sig
		id := storeCommit(f, dir, c)
		_, err := r.VerifySignature(id, keyring)
		if !errors.Is(err, ErrUnsigned) || !strings.Contains(err.Error(), "not an OpenPGP signature") || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}

	// A real SSH signature made by git.
	if _, err := exec.LookPath("ssh-keygen"); err == nil {
		key := filepath.Join(t.TempDir(), "id_ed25519")
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "t@t", "-f", key).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v: %s", err, out)
		}
		f.run(dir, "-c", "gpg.format=ssh", "-c", "user.signingkey="+key, "commit", "-q", "-S", "--allow-empty", "-m", "ssh-signed")
		id := f.run(dir, "rev-parse", "HEAD")
		if !strings.Contains(f.run(dir, "cat-file", "commit", id), "BEGIN SSH SIGNATURE") {
			t.Fatal("git did not SSH-sign")
		}
		_, err := r.VerifySignature(id, keyring)
		if !errors.Is(err, ErrUnsigned) || !strings.Contains(err.Error(), "SSH signature, not an OpenPGP signature") {
			t.Errorf("git SSH-signed commit: %v", err)
		}
	}
}

func TestVerifySignatureMalformed(t *testing.T) {
	f := newFx(t)
	dir := f.repo()
	r := mustOpen(t, dir)
	alice := newKey(t, "Alice", "alice@example.com", nil)
	keyring := armoredPublic(t, alice)

	c := baseCommit(f, dir, "twice signed\n")
	sign(t, c, alice, nil)
	one := c.PGPSignature
	var bse *BadSignatureError
	for _, twice := range []string{one + "\n" + one, one + one} {
		c.PGPSignature = twice
		if _, err := r.VerifySignature(storeCommit(f, dir, c), keyring); !errors.As(err, &bse) {
			t.Errorf("two armored blocks: %v", err)
		}
	}
	c.PGPSignature = strings.Replace(one, "\n\n", "\n\n!!!!", 1)
	if _, err := r.VerifySignature(storeCommit(f, dir, c), keyring); !errors.As(err, &bse) {
		t.Errorf("corrupt armor: %v", err)
	}
	// A keyring that does not parse is a plain error naming the keyring,
	// whatever the commit.
	c.PGPSignature = one
	id := storeCommit(f, dir, c)
	for name, kr := range map[string][]byte{
		"garbage":   []byte("not a keyring\n"),
		"empty":     nil,
		"signature": []byte(one),
		"truncated": keyring[:len(keyring)/2],
	} {
		_, err := r.VerifySignature(id, kr)
		var uke *UnknownKeyError
		if err == nil || errors.As(err, &bse) || errors.As(err, &uke) || errors.Is(err, ErrUnsigned) || !strings.Contains(err.Error(), "keyring") {
			t.Errorf("keyring %s: %v (%T)", name, err, err)
		}
	}
	// Separately armored keys, joined with text between, and a binary
	// keyring are keyrings too.
	bob := newKey(t, "Bob", "bob@example.com", nil)
	joined := append(append(armoredPublic(t, bob), "\n# alice:\n"...), keyring...)
	if s, err := r.VerifySignature(id, joined); err != nil || s.Fingerprint != fingerprint(alice) {
		t.Errorf("joined keyring: %+v, %v", s, err)
	}
	var bin bytes.Buffer
	if err := alice.Serialize(&bin); err != nil {
		t.Fatal(err)
	}
	if s, err := r.VerifySignature(id, bin.Bytes()); err != nil || s.Fingerprint != fingerprint(alice) {
		t.Errorf("binary keyring: %+v, %v", s, err)
	}
}

// splitSignature must cut out exactly what git verifies; the GnuPG test
// checks that against git verify-commit, this the other headers.
func TestSplitSignature(t *testing.T) {
	raw := "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n" +
		"author A <a@b> 1 +0000\ncommitter A <a@b> 1 +0000\n" +
		"gpgsig -----BEGIN PGP SIGNATURE-----\n \n abc\n -----END PGP SIGNATURE-----\n" +
		"gpgsig-sha256 -----BEGIN PGP SIGNATURE-----\n \n def\n -----END PGP SIGNATURE-----\n" +
		"x-extra value\n continued\n" +
		"\nmessage\ngpgsig in the message\n \n"
	payload, sig, ok := splitSignature([]byte(raw))
	if !ok {
		t.Fatal("not signed")
	}
	if want := "-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n"; sig != want {
		t.Errorf("sig %q, want %q", sig, want)
	}
	want := "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n" +
		"author A <a@b> 1 +0000\ncommitter A <a@b> 1 +0000\n" +
		"x-extra value\n continued\n" +
		"\nmessage\ngpgsig in the message\n \n"
	if string(payload) != want {
		t.Errorf("payload %q, want %q", payload, want)
	}
	if _, _, ok := splitSignature([]byte("tree x\n\ngpgsig not a header\n")); ok {
		t.Error("a gpgsig line in the message counts as a signature")
	}
}

// gpgEnv makes a throwaway GnuPG home and a key in it; it returns the env
// for git and gpg, and the key's fingerprint.
func gpgEnv(t *testing.T) (env []string, fpr string) {
	t.Helper()
	if _, err := exec.LookPath("gpg"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("gpg is missing")
		}
		t.Skip("needs gpg")
	}
	// Short: gpg-agent puts its socket in it.
	home, err := os.MkdirTemp("", "gpg")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(home, 0o700); err != nil {
		t.Fatal(err)
	}
	env = []string{"GNUPGHOME=" + home}
	t.Cleanup(func() {
		// Stops only the agent of this home, which the test started.
		cmd := exec.Command("gpgconf", "--kill", "gpg-agent")
		cmd.Env = append(os.Environ(), env...)
		_ = cmd.Run()
		os.RemoveAll(home)
	})
	gpg(t, env, "--quick-gen-key", "GnuPG Tester <gpg@example.com>", "ed25519", "sign", "never")
	for _, line := range strings.Split(gpg(t, env, "--with-colons", "--list-keys"), "\n") {
		if strings.HasPrefix(line, "fpr:") {
			fpr = strings.Split(line, ":")[9]
			break
		}
	}
	if len(fpr) != 40 {
		t.Fatalf("no fingerprint in gpg --list-keys")
	}
	return env, fpr
}

func gpg(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("gpg", append([]string{"--batch", "--no-tty", "--passphrase", "", "--pinentry-mode", "loopback"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		t.Fatalf("gpg %s: %v: %s", strings.Join(args, " "), err, se.String())
	}
	return so.String()
}

func TestVerifySignatureGnuPG(t *testing.T) {
	f := newFx(t)
	env, fpr := gpgEnv(t)
	dir := f.repo()
	git := func(args ...string) (string, error) {
		return f.try(dir, env, append([]string{"-c", "gpg.program=gpg", "-c", "gpg.format=openpgp"}, args...)...)
	}
	commitSigned := func(key, msg string) string {
		t.Helper()
		if _, err := git("-c", "user.signingkey="+key, "commit", "-q", "-S", "--allow-empty", "-m", msg); err != nil {
			t.Fatal(err)
		}
		return f.run(dir, "rev-parse", "HEAD")
	}
	byPrimary := commitSigned(fpr, "signed by GnuPG\n\nRingflow-Carries: 0123456789abcdef0123456789abcdef01234567")

	// A signing subkey, used explicitly ("!").
	gpg(t, env, "--quick-add-key", fpr, "ed25519", "sign", "never")
	var subFpr string
	for _, line := range strings.Split(gpg(t, env, "--with-colons", "--list-keys", fpr), "\n") {
		if strings.HasPrefix(line, "fpr:") && !strings.Contains(line, fpr) {
			subFpr = strings.Split(line, ":")[9]
		}
	}
	if subFpr == "" {
		t.Fatal("no subkey fingerprint")
	}
	bySubkey := commitSigned(subFpr+"!", "signed by the subkey")
	keyring := []byte(gpg(t, env, "--armor", "--export", fpr))

	r := mustOpen(t, dir)
	for _, c := range []string{byPrimary, bySubkey} {
		// git agrees that it verifies, and names the same primary key.
		if out, err := git("verify-commit", c); err != nil {
			t.Fatalf("git verify-commit %s: %v %s", c, err, out)
		}
		gitPrimary, _ := git("log", "-1", "--format=%GP", c)
		s, err := r.VerifySignature(c, keyring)
		if err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if s.Fingerprint != fpr || s.Fingerprint != gitPrimary || s.UserID != "GnuPG Tester <gpg@example.com>" {
			t.Errorf("%s: signer %+v; gpg key %s, git's %%GP %s", c, s, fpr, gitPrimary)
		}
	}

	// Someone else's keyring: the key ID is git's %GK.
	other := armoredPublic(t, newKey(t, "Other", "o@example.com", nil))
	for c, want := range map[string]string{byPrimary: fpr[24:], bySubkey: subFpr[24:]} {
		_, err := r.VerifySignature(c, other)
		var uke *UnknownKeyError
		gitKey, _ := git("log", "-1", "--format=%GK", c)
		if !errors.As(err, &uke) || uke.KeyID != want || !strings.EqualFold(uke.KeyID, gitKey) {
			t.Errorf("%s with another keyring: %v; want key %s (git: %s)", c, err, want, gitKey)
		}
	}

	// Tampered: the message changed, the signature kept. git refuses too.
	raw := string(gitRaw(f, dir, "cat-file", "commit", byPrimary))
	forged := gitStdin(f, dir, strings.Replace(raw, "signed by GnuPG", "signed by GnuPG, honest", 1), "hash-object", "-t", "commit", "-w", "--stdin")
	if _, err := git("verify-commit", forged); err == nil {
		t.Fatal("git verify-commit accepts the forged commit")
	}
	var bse *BadSignatureError
	if _, err := r.VerifySignature(forged, keyring); !errors.As(err, &bse) {
		t.Errorf("forged: %v (%T), want *BadSignatureError", err, err)
	}

	// A commit signed by a key gpg knows is fine for git but not for us
	// when the keyring lacks it; and an unsigned one is unsigned for both.
	plain := f.commit(dir, "x", "unsigned")
	if _, err := git("verify-commit", plain); err == nil {
		t.Error("git verify-commit accepts an unsigned commit")
	}
	if _, err := r.VerifySignature(plain, keyring); !errors.Is(err, ErrUnsigned) {
		t.Errorf("unsigned: %v", err)
	}
}
