package gitrepo

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/go-git/go-git/v5/plumbing"
)

// ErrUnsigned reports a commit without an OpenPGP signature: it has no
// gpgsig header, or the header holds another kind of signature (SSH,
// X.509), which the error then names.
var ErrUnsigned = errors.New("no OpenPGP signature")

// Signer is who made a signature that verified.
type Signer struct {
	Fingerprint string // the signing key's primary key fingerprint, upper-case hex (also when a subkey signed)
	UserID      string // the key's primary user ID, e.g. "Alice <alice@example.com>"
}

// UnknownKeyError reports a commit with an OpenPGP signature by a key that
// is not in the keyring.
type UnknownKeyError struct {
	Commit      string // 40-hex commit ID
	KeyID       string // the issuer's 16-hex key ID, upper case (of the subkey, if a subkey signed)
	Fingerprint string // the issuer's fingerprint in upper-case hex when the signature names it, else ""
}

func (e *UnknownKeyError) Error() string {
	key := e.KeyID
	if e.Fingerprint != "" {
		key = e.Fingerprint
	}
	return fmt.Sprintf("commit %s is signed by key %s, which is not in the keyring", e.Commit, key)
}

// BadSignatureError reports an OpenPGP signature that does not hold: it
// does not match the commit (the commit changed after signing), the
// signing key has expired or was revoked, the signature is malformed, uses
// an algorithm that is refused, and the like.
type BadSignatureError struct {
	Commit string // 40-hex commit ID
	Reason string
}

func (e *BadSignatureError) Error() string {
	return fmt.Sprintf("commit %s: bad OpenPGP signature: %s", e.Commit, e.Reason)
}

// VerifySignature checks the OpenPGP signature in commit's gpgsig header
// (commit is any revision ResolveCommit accepts) against armoredKeyRing:
// one or more armored public (or private) key blocks, concatenated as
// `gpg --armor --export` writes them or as files are joined; a binary
// keyring (`gpg --export`) is taken too. It verifies what `git
// verify-commit` verifies: the commit object without its signature
// headers, byte for byte. A signature by a signing subkey of a keyring key
// counts as that key's.
//
// On success it returns the signer. Otherwise the error says why:
// ErrUnsigned (wrapped; errors.Is) when there is no OpenPGP signature,
// *UnknownKeyError when the signing key is not in the keyring,
// *BadSignatureError when the signature does not verify or the key is no
// longer valid now (expired, revoked). A keyring that does not parse, or
// holds no key, is a plain error that names the keyring, as is an unknown
// revision.
func (r *Repo) VerifySignature(commit string, armoredKeyRing []byte) (Signer, error) {
	keyring, err := readKeyRing(armoredKeyRing)
	if err != nil {
		return Signer{}, fmt.Errorf("OpenPGP keyring: %w", err)
	}
	var (
		id  plumbing.Hash
		raw []byte
	)
	err = r.read(func(s *store) error {
		h, err := s.resolve(commit)
		if err != nil {
			return revError(commit, err)
		}
		o, err := s.st.EncodedObject(plumbing.CommitObject, h)
		if err != nil {
			return err
		}
		rd, err := o.Reader()
		if err != nil {
			return err
		}
		defer rd.Close()
		raw, err = io.ReadAll(rd)
		id = h
		return err
	})
	var ure *UnknownRevisionError
	if errors.As(err, &ure) {
		return Signer{}, err
	}
	if err != nil {
		return Signer{}, fmt.Errorf("verify signature of %s: %w", commit, err)
	}
	return verifyCommitSignature(id.String(), raw, keyring, time.Now())
}

// verifyCommitSignature verifies the raw commit object raw (its ID is
// commit) at time now.
func verifyCommitSignature(commit string, raw []byte, keyring openpgp.EntityList, now time.Time) (Signer, error) {
	bad := func(format string, args ...any) (Signer, error) {
		return Signer{}, &BadSignatureError{Commit: commit, Reason: fmt.Sprintf(format, args...)}
	}
	payload, sig, signed := splitSignature(raw)
	if !signed {
		return Signer{}, fmt.Errorf("commit %s: %w: it has no gpgsig header", commit, ErrUnsigned)
	}
	switch kind := signatureKind(sig); kind {
	case "openpgp":
	case "":
		return Signer{}, fmt.Errorf("commit %s: %w: its gpgsig header holds a signature of unknown format, not an OpenPGP signature", commit, ErrUnsigned)
	default:
		return Signer{}, fmt.Errorf("commit %s: %w: its gpgsig header holds an %s signature, not an OpenPGP signature", commit, ErrUnsigned, kind)
	}
	// One armored block only: text around or after it would not be checked
	// (go-git refuses such commits for the same reason).
	if n := countArmorBlocks(sig); n != 1 {
		return bad("the gpgsig header holds %d armored blocks, want exactly one signature", n)
	}
	block, err := armor.Decode(strings.NewReader(sig))
	if err != nil {
		return bad("malformed signature armor: %s", pgpReason(err))
	}
	body, err := io.ReadAll(block.Body)
	if err != nil {
		return bad("malformed signature armor: %s", pgpReason(err))
	}

	// The issuers, to name an unknown key: go-crypto only says "unknown".
	var sigs []*packet.Signature
	packets := packet.NewReader(bytes.NewReader(body))
	for {
		p, err := packets.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return bad("malformed signature: %s", pgpReason(err))
		}
		s, ok := p.(*packet.Signature)
		if !ok {
			return bad("malformed signature: a %T packet where only signatures belong", p)
		}
		sigs = append(sigs, s)
	}
	if len(sigs) == 0 {
		return bad("malformed signature: no signature packet")
	}

	config := &packet.Config{Time: func() time.Time { return now }}
	signer, err := openpgp.CheckDetachedSignature(keyring, bytes.NewReader(payload), bytes.NewReader(body), config)
	if err == nil {
		return signerOf(signer), nil
	}
	switch {
	case errors.Is(err, pgperrors.ErrUnknownIssuer):
		// Known key IDs that cannot sign (an encryption subkey, a key
		// whose flags forbid signing) are not "unknown".
		for _, s := range sigs {
			if s.IssuerKeyId == nil {
				continue
			}
			if keys := keyring.KeysById(*s.IssuerKeyId); len(keys) > 0 {
				return bad("key %s (%s) is in the keyring but is not a signing key", keyIDHex(*s.IssuerKeyId), describeKey(keys[0].Entity))
			}
		}
		for _, s := range sigs {
			if s.IssuerKeyId != nil {
				e := &UnknownKeyError{Commit: commit, KeyID: keyIDHex(*s.IssuerKeyId)}
				if len(s.IssuerFingerprint) > 0 {
					e.Fingerprint = strings.ToUpper(hex.EncodeToString(s.IssuerFingerprint))
				}
				return Signer{}, e
			}
		}
		return bad("the signature names no issuer key")
	case errors.Is(err, pgperrors.ErrKeyRevoked):
		return bad("key %s was revoked", describeKey(signer))
	case errors.Is(err, pgperrors.ErrKeyExpired):
		return bad("key %s has expired", describeKey(signer))
	case errors.Is(err, pgperrors.ErrSignatureExpired):
		for _, s := range sigs {
			if s.CreationTime.After(now) {
				return bad("the signature by key %s is dated in the future (%s)", describeKey(signer), s.CreationTime.UTC().Format(time.RFC3339))
			}
		}
		return bad("the signature by key %s, or the key's self-signature, has expired", describeKey(signer))
	}
	var se pgperrors.SignatureError
	if errors.As(err, &se) {
		who := ""
		for _, s := range sigs {
			if s.IssuerKeyId == nil {
				continue
			}
			if keys := keyring.KeysById(*s.IssuerKeyId); len(keys) > 0 {
				who = " by key " + describeKey(keys[0].Entity)
				break
			}
		}
		return bad("the signature%s does not match the commit (changed after signing?): %s", who, pgpReason(err))
	}
	return bad("%s", pgpReason(err))
}

// splitSignature separates a raw commit object into the payload a gpgsig
// signature covers and the signature, as git's
// parse_buffer_signed_by_header does for a SHA-1 repository: the "gpgsig"
// header (its continuation lines unindented) is the signature, and it and
// every other "gpgsig…" header (gpgsig-sha256) are left out of the payload.
func splitSignature(raw []byte) (payload []byte, sig string, signed bool) {
	var p, s bytes.Buffer
	inSig, other := false, false
	for rest := raw; len(rest) > 0; {
		n := bytes.IndexByte(rest, '\n') + 1
		if n == 0 {
			n = len(rest)
		}
		line := rest[:n]
		rest = rest[n:]
		var value []byte
		isSig := false
		switch {
		case inSig && line[0] == ' ':
			value, isSig = line[1:], true
		case bytes.HasPrefix(line, []byte("gpgsig ")):
			value, isSig, other = line[len("gpgsig "):], true, false
		case bytes.HasPrefix(line, []byte("gpgsig")):
			other = true
		case other && line[0] != ' ':
			other = false
		}
		if isSig {
			s.Write(value)
			signed, inSig = true, true
			continue
		}
		if line[0] == '\n' {
			// The end of the headers: the message follows as it is.
			p.Write(line)
			p.Write(rest)
			break
		}
		if !other {
			p.Write(line)
		}
		inSig = false
	}
	return p.Bytes(), s.String(), signed
}

// signatureKind tells signature formats apart as git's gpg-interface does,
// by the armor line they start with: "openpgp", "X.509", "SSH", or "".
func signatureKind(sig string) string {
	switch {
	case strings.HasPrefix(sig, "-----BEGIN PGP SIGNATURE-----"), strings.HasPrefix(sig, "-----BEGIN PGP MESSAGE-----"):
		return "openpgp"
	case strings.HasPrefix(sig, "-----BEGIN SIGNED MESSAGE-----"):
		return "X.509"
	case strings.HasPrefix(sig, "-----BEGIN SSH SIGNATURE-----"):
		return "SSH"
	}
	return ""
}

// countArmorBlocks counts armor header lines, also where one is glued to
// the end of the line before.
func countArmorBlocks(text string) int {
	return strings.Count(text, "-----BEGIN ")
}

// readKeyRing reads every key of a keyring: armored public or private key
// blocks (any number, with text between them), or binary packets.
func readKeyRing(data []byte) (openpgp.EntityList, error) {
	const begin = "-----BEGIN PGP "
	var all openpgp.EntityList
	if !bytes.Contains(data, []byte(begin)) {
		if len(bytes.TrimSpace(data)) == 0 {
			return nil, errors.New("it is empty")
		}
		if data[0]&0x80 == 0 {
			return nil, errors.New("no armored key block (-----BEGIN PGP PUBLIC KEY BLOCK-----) in it")
		}
		el, err := openpgp.ReadKeyRing(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("reading binary keyring: %s", pgpReason(err))
		}
		all = el
	}
	for i, n := 0, 1; ; n++ {
		start := bytes.Index(data[i:], []byte(begin))
		if start < 0 {
			break
		}
		start += i
		end := len(data)
		if next := bytes.Index(data[start+1:], []byte(begin)); next >= 0 {
			end = start + 1 + next
		}
		i = end
		block, err := armor.Decode(bytes.NewReader(data[start:end]))
		if err != nil {
			return nil, fmt.Errorf("armored block %d: %s", n, pgpReason(err))
		}
		if block.Type != openpgp.PublicKeyType && block.Type != openpgp.PrivateKeyType {
			return nil, fmt.Errorf("armored block %d is a %q block, not a key block", n, block.Type)
		}
		el, err := openpgp.ReadKeyRing(block.Body)
		if err != nil {
			return nil, fmt.Errorf("armored block %d: %s", n, pgpReason(err))
		}
		all = append(all, el...)
		if i >= len(data) {
			break
		}
	}
	if len(all) == 0 {
		return nil, errors.New("it holds no usable key")
	}
	return all, nil
}

func signerOf(e *openpgp.Entity) Signer {
	s := Signer{Fingerprint: strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))}
	if id := e.PrimaryIdentity(); id != nil {
		s.UserID = id.Name
	}
	return s
}

// describeKey names a key as "FINGERPRINT (user id)".
func describeKey(e *openpgp.Entity) string {
	if e == nil {
		return "(unknown)"
	}
	s := signerOf(e)
	if s.UserID == "" {
		return s.Fingerprint
	}
	return s.Fingerprint + " (" + s.UserID + ")"
}

func keyIDHex(id uint64) string { return fmt.Sprintf("%016X", id) }

// pgpReason is a go-crypto error's text without its "openpgp: " prefix.
func pgpReason(err error) string {
	return strings.TrimPrefix(err.Error(), "openpgp: ")
}
