package history

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// HistoryPruned is the event of the record a store appends when retention
// removes old records; its Checkpoint says which.
const HistoryPruned Event = "history.pruned"

// Checkpoint attests, under a signature, the end of a range of records that
// retention removed: the chain resumes at Seq+1, whose PrevHash must be
// Hash. A store keeps every checkpoint it wrote, and appends a
// HistoryPruned record carrying it, in the transaction that removes the
// range; Verify starts from the newest one.
type Checkpoint struct {
	// First and Seq are the first and last records removed; Hash is Seq's.
	First int64  `json:"first"`
	Seq   int64  `json:"seq"`
	Hash  string `json:"hash"`
	// Before is the retention cutoff: every removed record is older.
	Before time.Time `json:"before"`
	// Time is when the range was removed.
	Time time.Time `json:"time"`
	// Key is the public key that signed, "ed25519:" and base64;
	// Signature is the base64 Ed25519 signature of Message.
	Key       string `json:"key"`
	Signature string `json:"signature,omitempty"`
}

// checkpointDomain prefixes the signed bytes, so that no other message
// signed by the same key can pass for a checkpoint.
const checkpointDomain = "cairn audit checkpoint v1\n"

// Message returns the bytes signed: a fixed prefix and the checkpoint's
// JSON without its signature, times in UTC.
func (c Checkpoint) Message() []byte {
	c.Signature = ""
	c.Before, c.Time = c.Before.UTC(), c.Time.UTC()
	b, _ := json.Marshal(c) // a struct of strings, integers and times: cannot fail
	return append([]byte(checkpointDomain), b...)
}

// Fingerprint is a short name of a public key: "SHA256:" and the base64 of
// the SHA-256 of the key bytes, as ssh-keygen prints keys.
func Fingerprint(key ed25519.PublicKey) string {
	sum := sha256.Sum256(key)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// PublicKey decodes Key.
func (c Checkpoint) PublicKey() (ed25519.PublicKey, error) {
	b, ok := bytes.CutPrefix([]byte(c.Key), []byte("ed25519:"))
	if !ok {
		return nil, fmt.Errorf("checkpoint %d: key %q is not ed25519:<base64>", c.Seq, c.Key)
	}
	key, err := base64.StdEncoding.DecodeString(string(b))
	if err != nil || len(key) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("checkpoint %d: key is not an Ed25519 public key", c.Seq)
	}
	return key, nil
}

// Check verifies the signature with the checkpoint's own key and, when
// pinned is set, that the key is pinned: without a pinned key a check
// proves only that whoever removed the range held the key it names.
func (c Checkpoint) Check(pinned ed25519.PublicKey) error {
	key, err := c.PublicKey()
	if err != nil {
		return err
	}
	if pinned != nil && !key.Equal(pinned) {
		return fmt.Errorf("checkpoint %d is signed by %s, not by the pinned key %s", c.Seq, Fingerprint(key), Fingerprint(pinned))
	}
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil || !ed25519.Verify(key, c.Message(), sig) {
		return fmt.Errorf("checkpoint %d: bad signature", c.Seq)
	}
	return nil
}

// Signer signs checkpoints with an Ed25519 key.
type Signer struct{ key ed25519.PrivateKey }

// NewSigner returns a Signer with key.
func NewSigner(key ed25519.PrivateKey) *Signer { return &Signer{key: key} }

// PublicKey is the key checkpoints name.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Sign sets c.Key and c.Signature.
func (s *Signer) Sign(c Checkpoint) Checkpoint {
	c.Key = "ed25519:" + base64.StdEncoding.EncodeToString(s.PublicKey())
	c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(s.key, c.Message()))
	return c
}

const pemPrivate, pemPublic = "PRIVATE KEY", "PUBLIC KEY"

// LoadSigner reads an Ed25519 private key from a PEM file (PKCS #8, as
// `openssl genpkey -algorithm ed25519` writes it, or the seed cairn writes).
// With create, a missing file is created with a new key, mode 0600.
func LoadSigner(path string, create bool) (*Signer, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && create {
		return createSigner(path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the audit signing key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("audit signing key %s: not PEM", path)
	}
	key, err := parsePrivate(block)
	if err != nil {
		return nil, fmt.Errorf("audit signing key %s: %w", path, err)
	}
	return &Signer{key: key}, nil
}

func createSigner(path string) (*Signer, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("creating the audit signing key: %w", err)
	}
	der, err := marshalPrivate(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating the audit signing key: %w", err)
	}
	// Written aside, then linked into place: a process killed half-way
	// leaves no partial key, and two starting at once keep the first key.
	f, err := os.CreateTemp(filepath.Dir(path), ".audit-signing-key-*")
	if err != nil {
		return nil, fmt.Errorf("creating the audit signing key: %w", err)
	}
	defer os.Remove(f.Name())
	if err := errors.Join(f.Chmod(0o600), pem.Encode(f, &pem.Block{Type: pemPrivate, Bytes: der}), f.Sync(), f.Close()); err != nil {
		return nil, fmt.Errorf("creating the audit signing key: %w", err)
	}
	if err := os.Link(f.Name(), path); errors.Is(err, os.ErrExist) {
		return LoadSigner(path, false)
	} else if err != nil {
		return nil, fmt.Errorf("creating the audit signing key: %w", err)
	}
	return &Signer{key: key}, nil
}

// LoadPublicKey reads an Ed25519 public key: a PEM file (PKIX, as
// `openssl pkey -pubout` writes it), or a private key file, whose public
// half is taken.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the audit public key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("audit public key %s: not PEM", path)
	}
	if block.Type == pemPrivate {
		key, err := parsePrivate(block)
		if err != nil {
			return nil, fmt.Errorf("audit public key %s: %w", path, err)
		}
		return key.Public().(ed25519.PublicKey), nil
	}
	key, err := parsePublic(block)
	if err != nil {
		return nil, fmt.Errorf("audit public key %s: %w", path, err)
	}
	return key, nil
}

// PublicKeyPEM encodes key as a PKIX PEM block, for `cairn history key`.
func PublicKeyPEM(key ed25519.PublicKey) ([]byte, error) {
	der, err := marshalPublic(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPublic, Bytes: der}), nil
}

// Carries reports whether body, the canonical JSON of a HistoryPruned
// record, carries checkpoint cp (the same signature).
func Carries(body []byte, cp *Checkpoint) bool {
	var r struct {
		Checkpoint *Checkpoint `json:"checkpoint"`
	}
	if cp == nil || json.Unmarshal(body, &r) != nil || r.Checkpoint == nil {
		return false
	}
	return r.Checkpoint.Seq == cp.Seq && r.Checkpoint.Hash == cp.Hash && r.Checkpoint.Signature == cp.Signature
}

// CheckpointNotRecorded is Verify's reason when the newest checkpoint is
// in the store's checkpoint table but no HistoryPruned record of the chain
// carries it: the table was written behind the store's back.
func CheckpointNotRecorded(cp *Checkpoint) string {
	return fmt.Sprintf("checkpoint %d is not carried by any history.pruned record of the chain (forged)", cp.Seq)
}
