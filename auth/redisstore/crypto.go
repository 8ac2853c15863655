package redisstore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// KeySize is the length of an EncryptionKey: AES-256.
const KeySize = 32

// An encrypted value is
//
//	formatV1 (1 byte) | key id (4 bytes) | nonce (12 bytes) | AES-256-GCM ciphertext and tag
//
// of auth.MarshalToken's JSON. The nonce is random for every write. The
// additional data is the 5-byte header followed by the store key (without
// the prefix), so a value copied to another key does not decrypt. The key id
// is the first 4 bytes of SHA-256 over a label and the key: it names the key
// for rotation and reveals nothing usable about it.
const (
	formatV1  byte = 0x01
	keyIDSize      = 4
	headerLen      = 1 + keyIDSize
)

type keyID [keyIDSize]byte

func (id keyID) String() string { return hex.EncodeToString(id[:]) }

func idOf(key []byte) keyID {
	h := sha256.New()
	h.Write([]byte("complykit-go redisstore key id v1\x00"))
	h.Write(key)
	var id keyID
	copy(id[:], h.Sum(nil))
	return id
}

type keyring struct {
	current keyID
	aeads   map[keyID]cipher.AEAD
}

func newKeyring(current []byte, previous [][]byte) (*keyring, error) {
	k := &keyring{current: idOf(current), aeads: map[keyID]cipher.AEAD{}}
	for _, key := range append([][]byte{current}, previous...) {
		id := idOf(key)
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("redisstore: encryption key %s is given twice", id)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("redisstore: encryption key %s: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("redisstore: encryption key %s: %w", id, err)
		}
		k.aeads[id] = aead
	}
	return k, nil
}

func (k *keyring) seal(storeKey string, plaintext []byte) ([]byte, error) {
	aead := k.aeads[k.current]
	out := make([]byte, headerLen+aead.NonceSize(), headerLen+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = formatV1
	copy(out[1:headerLen], k.current[:])
	nonce := out[headerLen:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("redisstore: generating a nonce: %w", err)
	}
	return aead.Seal(out, nonce, plaintext, additionalData(out[:headerLen], storeKey)), nil
}

func (k *keyring) open(storeKey string, value []byte) ([]byte, error) {
	if len(value) < headerLen || value[0] != formatV1 {
		return nil, errors.New("redisstore: the stored token is not in a known encrypted format")
	}
	var id keyID
	copy(id[:], value[1:headerLen])
	aead, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("redisstore: the stored token was encrypted with another key (key id %s; this store has %s): set that key in Options.PreviousKeys, or let the token be fetched again", id, k.current)
	}
	if len(value) < headerLen+aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("redisstore: the stored token is truncated")
	}
	nonce := value[headerLen : headerLen+aead.NonceSize()]
	plaintext, err := aead.Open(nil, nonce, value[headerLen+aead.NonceSize():], additionalData(value[:headerLen], storeKey))
	if err != nil {
		return nil, fmt.Errorf("redisstore: the stored token cannot be decrypted with key %s: it was altered or copied from another Redis key", id)
	}
	return plaintext, nil
}

func additionalData(header []byte, storeKey string) []byte {
	ad := make([]byte, 0, len(header)+len(storeKey))
	ad = append(ad, header...)
	return append(ad, storeKey...)
}
