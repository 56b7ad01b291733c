// Package input names the inputs of certmint's operations (the CN, the
// SANs, the validity, the CA home, the bundle password, ...) so that the
// packages below the command line can say which input an error is about,
// and what to give instead, without knowing how it was given: the CLI
// writes an input as its flag (--days 825) or environment variable, a batch
// as its CSV column. Only cmd/certmint knows flag names (its error table
// renders every Text).
package input

import (
	"fmt"
	"strconv"
	"strings"
)

// Name is one input. Its value is a neutral word, used by Plain.
type Name string

// The inputs messages refer to.
const (
	// A request (issue, csr, sign, safeq, batch, renew).
	Template       Name = "template"
	CN             Name = "cn"
	SAN            Name = "san"
	Subject        Name = "subject"
	Days           Name = "days"
	Key            Name = "key" // the new key's type
	Format         Name = "format"
	FileName       Name = "name" // the bundle's base file name
	Out            Name = "out"  // the output folder or file
	Force          Name = "force"
	NoCDP          Name = "no-cdp"
	PFX            Name = "pfx" // the PKCS#12 flavour
	PasswordEnv    Name = "password-env"
	PasswordFile   Name = "password-file"
	RandomPassword Name = "random-password"
	// A configuration profile (the mobileconfig format).
	SignProfile     Name = "sign-profile"
	ProfilePassword Name = "profile-password"

	// The CA.
	Home          Name = "home"
	CAPassword    Name = "ca-password"
	CAPasswordEnv Name = "ca-password-env"
	IssuingCA     Name = "issuing-ca" // revoke: the target is the issuing CA itself
	Status        Name = "status"     // list's filter
	RootCN        Name = "root-cn"
	IssuingCN     Name = "issuing-cn"
	RootDays      Name = "root-days"
	IssuingDays   Name = "issuing-days"
	IssuingKey    Name = "issuing-key"
	Country       Name = "country"
	State         Name = "state"
	Locality      Name = "locality"
	Org           Name = "org"
	OU            Name = "ou"
	DatabaseURL   Name = "database-url"
	DatabaseEnv   Name = "database-env"

	// A conversion.
	In           Name = "in"
	To           Name = "to"
	NoKeys       Name = "nokeys"
	NoCerts      Name = "nocerts"
	KeyFile      Name = "key-file"
	Chain        Name = "chain"
	Legacy       Name = "legacy"
	FriendlyName Name = "friendly-name"
)

// Names lists every Name, for the CLI's test that it renders each.
var Names = []Name{Template, CN, SAN, Subject, Days, Key, Format, FileName, Out, Force, NoCDP, PFX, PasswordEnv, PasswordFile,
	RandomPassword, Home, CAPassword, CAPasswordEnv, IssuingCA, Status, RootCN, IssuingCN, RootDays, IssuingDays,
	IssuingKey, Country, State, Locality, Org, OU, DatabaseURL, DatabaseEnv, In, To, NoKeys, NoCerts, KeyFile, Chain,
	Legacy, FriendlyName, SignProfile, ProfilePassword}

// Ref is an input in a message, with the value given or proposed for it.
type Ref struct {
	Name     Name
	Value    string
	HasValue bool
	Quote    bool // write the value quoted (%q), as it would be typed
}

// Of refers to the input itself: "leave out --no-cdp".
func Of(n Name) Ref { return Ref{Name: n} }

// Val refers to the input with a value: "use --days 825".
func Val(n Name, v any) Ref { return Ref{Name: n, Value: fmt.Sprint(v), HasValue: true} }

// Quoted refers to the input with a value written quoted: `--name "x/y"`.
func Quoted(n Name, v string) Ref { return Ref{Name: n, Value: v, HasValue: true, Quote: true} }

// ValueText is the value as it is written after the input's name.
func (r Ref) ValueText() string {
	if r.Quote {
		return strconv.Quote(r.Value)
	}
	return r.Value
}

// Plain writes a Ref without knowing the command line: name or
// name=value.
func Plain(r Ref) string {
	if !r.HasValue {
		return string(r.Name)
	}
	return string(r.Name) + "=" + r.ValueText()
}

// Text is a message that names inputs: a fmt format and its arguments, of
// which the Refs are written by whoever shows the message.
type Text struct {
	Format string
	Args   []any
}

// Textf makes a Text; args may hold Refs.
func Textf(format string, args ...any) Text { return Text{Format: format, Args: args} }

// Render writes the text, each Ref with name.
func (t Text) Render(name func(Ref) string) string {
	args := make([]any, len(t.Args))
	for i, a := range t.Args {
		switch a := a.(type) {
		case Ref:
			args[i] = name(a)
		case Text:
			args[i] = a.Render(name)
		default:
			args[i] = a
		}
	}
	return fmt.Sprintf(t.Format, args...)
}

// String writes the text with Plain names.
func (t Text) String() string {
	if t.IsZero() {
		return ""
	}
	return t.Render(Plain)
}

// IsZero reports an empty text.
func (t Text) IsZero() bool { return t.Format == "" }

// Refs lists the inputs the text names, in order.
func (t Text) Refs() []Ref {
	var out []Ref
	for _, a := range t.Args {
		switch a := a.(type) {
		case Ref:
			out = append(out, a)
		case Text:
			out = append(out, a.Refs()...)
		}
	}
	return out
}

// Names reports whether the text names n.
func (t Text) Names(n Name) bool {
	for _, r := range t.Refs() {
		if r.Name == n {
			return true
		}
	}
	return false
}

// Join writes texts joined with sep, each rendered alike: "use --key
// rsa:2048 or --key rsa:4096".
func Join(parts []Text, sep string) Text {
	var f []string
	var args []any
	for _, p := range parts {
		f = append(f, "%s")
		args = append(args, p)
	}
	return Text{Format: strings.Join(f, sep), Args: args}
}

// OrList joins texts as "a, b or c".
func OrList(parts []Text) Text {
	if len(parts) < 2 {
		return Join(parts, "")
	}
	return Textf("%s or %s", Join(parts[:len(parts)-1], ", "), parts[len(parts)-1])
}

// PlainText is a Text that names no input (percent signs are kept).
func PlainText(s string) Text { return Text{Format: "%s", Args: []any{s}} }
