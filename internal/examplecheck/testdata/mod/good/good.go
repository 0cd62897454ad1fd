package good

// Foo is shown by an example named for it.
func Foo() {}

// Bar is shown by an example of one of its methods.
type Bar struct{}

// Baz is shown by ExampleBar_Baz.
func (Bar) Baz() {}

// NewBar is a constructor, shown by the example of Bar that calls it.
func NewBar() *Bar { return &Bar{} }

// Table is generic, shown by ExampleTable.
type Table[K comparable, V any] map[K]V

// NewTable is a constructor that can fail, shown by ExampleTable.
func NewTable[K comparable, V any]() (Table[K, V], error) { return Table[K, V]{}, nil }

// Option configures a Bar; its constructors are checked instead.
type Option interface{ apply() }

type size int

func (size) apply() {}

// Size is an option, shown by any example that passes it.
func Size(n int) Option { return size(n) }

// Skipped has no example and is exempt.
func Skipped() {}
