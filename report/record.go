package report

// Record is one input row as the results and failures files write it.
type Record struct {
	// Line is the row's first line in the input (header = line 1).
	Line int
	// Fields holds the values of the kept input columns, byte for byte, one
	// per header name; the writers refuse a record of another width.
	Fields []string
	// Outcome is what happened to the row.
	Outcome Outcome
}
