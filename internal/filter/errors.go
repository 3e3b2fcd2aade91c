package filter

import (
	"errors"
	"fmt"
)

// ErrInvalidFilter is matched (with errors.Is) by every error Parse returns. The HTTP layer
// answers it with 400 and scimType invalidFilter.
var ErrInvalidFilter = errors.New("invalid filter")

// ErrInvalidPath is matched (with errors.Is) by every error ParsePath returns. The HTTP layer
// answers it with 400 and scimType invalidPath.
var ErrInvalidPath = errors.New("invalid path")

// SyntaxError says where and why a filter or a path could not be parsed. Its message never
// repeats the input, which may hold personal data.
type SyntaxError struct {
	// Kind is ErrInvalidFilter or ErrInvalidPath.
	Kind error
	// Offset is the byte offset in the input where the problem was found.
	Offset int
	// Reason says what was expected or found.
	Reason string
}

// Error implements error.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s at offset %d: %s", e.Kind, e.Offset, e.Reason)
}

// Is reports whether target is the error's kind.
func (e *SyntaxError) Is(target error) bool {
	return target == e.Kind
}
