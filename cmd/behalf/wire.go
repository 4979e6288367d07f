package main

// wireLog keeps the raw JSON answers of a command's API calls, so that
// -o json|yaml prints what the server sent, in its member names and
// nesting, as the aws CLI does, rather than the Go SDK's structs.
type wireLog struct{}

// last is the answer of the command's last operation, or nil.
func (l *wireLog) last() []byte { return nil }
