package store

// URLError is a database URL that cannot be used as given: a mistake in how
// certmint was called.
type URLError struct {
	Msg  string
	Hint string
}

func (e *URLError) Error() string    { return e.Msg }
func (e *URLError) HintText() string { return e.Hint }
