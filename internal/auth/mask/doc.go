// Package mask masks the fields security.json's dataProtection.masking
// names in what cairn shows and records: API answers, audit records, log
// attributes. It works on decoded JSON (maps, slices and scalars) and on
// JSON documents, and returns masked copies without touching its input.
//
// A field path is dotted (request.headers.authorization, output.*.secret)
// or a JSON pointer (/spec/env/*/value), anchored at the document's root;
// "*" matches any one key or index. Keys match without regard to case, so
// request.headers.authorization also masks an Authorization header.
//
// Methods: redact replaces the value with "[redacted]"; hash replaces it
// with "hash:" and 16 hex digits of an HMAC-SHA256 (a plain SHA-256 without
// a key), so equal values stay comparable; partial keeps the first and last
// characters of a string (1 to 4 each, by length) around "****" and
// redacts anything else. Hashes of values with few possibilities (an IP
// address) can be reversed by trying them all unless a secret key is set.
//
// Secret values must never reach a masker: this is for everything else
// that is sensitive.
package mask
