// Package seal owns Behalf's encryption of secrets at rest: envelope
// encryption with AES-256-GCM data keys that are themselves wrapped by a
// key-encryption key (KEK) held in a gocloud.dev/secrets Keeper.
//
// OpenKeeper opens the KEK: a cloud KMS named by URL (awskms://…), an inline
// key (base64key://…), or by default a local 32-byte key in the file
// <dataDir>/kek, created on first start with mode 0600.
//
// Sealer implements behalf.Sealer. Data keys are random 32-byte keys stored
// wrapped through a behalf.DataKeyStore; once unwrapped they are cached in
// memory, so sealing and opening touch neither the KMS nor the store after
// first use.
//
// # Sealed value format (version 1)
//
//	+---------+-----------+--------+--------------+-----------------------+
//	| version | len(id)   | id     | nonce        | ciphertext || GCM tag |
//	| 1 byte  | 1 byte    | n bytes| 12 bytes     | len(plaintext) + 16   |
//	+---------+-----------+--------+--------------+-----------------------+
//
// version is 1; id names the data key (a behalf.DataKey.ID); the nonce is
// random per value. The associated data authenticated with the ciphertext is
// the concatenation of these parts, each preceded by its length as a 4-byte
// big-endian integer:
//
//	"behalf-seal-v1", SealContext.Kind, SealContext.Key, SealContext.Field, id
//
// so a value moved to another record, kind or field, or relabelled with
// another data key id, fails to open.
//
// # Key rotation
//
// Rotating the KEK ("behalf keys rotate") rewraps every data key with
// Sealer.Rewrap; sealed values are untouched because they name the data key,
// not the KEK.
package seal
