// Package schema embeds the JSON Schemas (draft 2020-12) of the
// cairn.dev/v1alpha1 document kinds and validates decoded documents against
// them.
//
// The schemas are the authority on the shape of a document: every field,
// its type, its bounds and the fields that exclude each other. Rules that
// span documents (duplicate names, port conflicts, open acceptors) and the
// scan for literal credentials live in internal/validate, not here.
//
// Validation never touches the network or the file system: the compiler
// only sees the embedded files, and format assertions are on.
package schema
