// Package seal owns Behalf's encryption of secrets at rest: envelope
// encryption with AES-256-GCM data keys that are themselves wrapped by a
// key-encryption key (KEK) held in a gocloud.dev/secrets Keeper.
//
// OpenKeeper opens one KEK: a cloud KMS named by URL (awskms://…), an
// inline key (base64key://…), or by default a local 32-byte key in the file
// <dataDir>/kek, created on first start with mode 0600.
//
// A Keyring holds every KEK version a database records (table
// kek_versions; the keys themselves are never stored): version 1 is the
// first key a server started with, and each "behalf keys rotate" adds one.
// A local key of version N is the file <dataDir>/kek.N (version 1 keeps the
// name kek); a cloud KMS version is opened from its recorded URL; a
// base64key:// version must be given with --kms or --kms-previous. Each
// version records a check value it wrapped, so a wrong or missing key is
// refused at start, by name, rather than failing on first use.
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
// Rotating the KEK ("behalf keys rotate") records a new active version
// (Keyring.Rotate) and rewraps every data key with it (Sealer.RewrapAll);
// sealed values are untouched because they name the data key, not the KEK.
// It runs online: a Sealer on a Keyring opens data keys wrapped by any
// version not retired, rereads the versions when a data key names one it
// does not know, and before it wraps a new data key. Once no data key names
// an old version, Keyring.Retire marks it retired and its key is no longer
// needed (except to restore backups taken before the rotation).
package seal
