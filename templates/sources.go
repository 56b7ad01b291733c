package templates

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Source is one section of a document that template rules cite: who
// published it, its title and the section, as a reader finds them. Users
// see these names; the copies of the documents certmint's tests read are
// named after the same ids (templates/testdata/sources/).
type Source struct {
	ID        string `json:"id"`
	Publisher string `json:"publisher"`
	Title     string `json:"title"`
	Section   string `json:"section"`
}

// String names the document and section: "Microsoft Defender for IoT:
// Certificate requirements — CRT file requirements".
func (s Source) String() string {
	if s.Section == "" {
		return s.Title
	}
	return s.Title + " — " + s.Section
}

// Document titles, as the pages name themselves.
const (
	title1E        = "1E 23.11: Certificate requirements"
	title1EMac     = "1E Client for macOS"
	titleSafeQ     = "YSoft SafeQ: Generating certificate for signing access tokens/secured SSL connection"
	titleDefender  = "Microsoft Defender for IoT: Certificate requirements"
	titleRFC5280   = "RFC 5280: Internet X.509 Public Key Infrastructure Certificate and CRL Profile"
	publisher1E    = "1E"
	publisherYSoft = "Y Soft"
	publisherMS    = "Microsoft"
)

// sources is the one table of documents and sections that built-in
// templates cite. A template names a row by its id.
var sources = []Source{
	{"1e-requirements", publisher1E, title1E, "Certificate requirements"},
	{"1e-pki", publisher1E, title1E, "Public Key Infrastructure"},
	{"1e-pki-notes", publisher1E, title1E, "PKI notes"},
	{"1e-client-auth", publisher1E, title1E, "Client authentication certificates"},
	{"1e-code-signing", publisher1E, title1E, "Code signing certificates"},
	{"1e-macos-certificates", publisher1E, title1EMac, "Client certificates (Key Store method)"},
	{"safeq-signing", publisherYSoft, titleSafeQ, "Signing certificate"},
	{"safeq-ssl", publisherYSoft, titleSafeQ, "SSL certificate for SSL server authentication"},
	{"safeq-server-setup", publisherYSoft, titleSafeQ, "Recommended setup for a Server certificate"},
	{"safeq-script", publisherYSoft, titleSafeQ, "Script arguments"},
	{"defender-generation", publisherMS, titleDefender, "About certificate generation methods"},
	{"defender-validation", publisherMS, titleDefender, "About certificate validation"},
	{"defender-deployment", publisherMS, titleDefender, "Certificate deployment tasks"},
	{"defender-port", publisherMS, titleDefender, "Port access requirements for certificate validation"},
	{"defender-files", publisherMS, titleDefender, "File type requirements"},
	{"defender-crt", publisherMS, titleDefender, "CRT file requirements"},
	{"defender-key", publisherMS, titleDefender, "Key file requirements"},
	{"defender-chain", publisherMS, titleDefender, "Certificate chain file requirements"},
	{"defender-create", publisherMS, titleDefender, "Create certificates"},
	{"defender-troubleshooting", publisherMS, titleDefender, "Troubleshoot CA-Certificate Upload"},
	// The validation every X.509 client performs. Cited (without a quote)
	// by the validation steps of templates that name no vendor document.
	{"rfc5280-validation", "IETF", titleRFC5280, "6. Certification Path Validation"},
}

// LookupSource returns the row of the table with that id.
func LookupSource(id string) (Source, bool) {
	for _, s := range sources {
		if s.ID == id {
			return s, true
		}
	}
	return Source{}, false
}

// Sources returns the table, sorted by id.
func Sources() []Source {
	out := append([]Source(nil), sources...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func sourceIDs() []string {
	ids := make([]string, len(sources))
	for i, s := range sources {
		ids[i] = s.ID
	}
	return ids
}

// Level says what breaking a rule means.
type Level string

const (
	// Requirement: the vendor's own sentence demands it; check fails.
	Requirement Level = "requirement"
	// Advice: certmint's good practice, or what a document only
	// recommends; check warns and the result does not change.
	Advice Level = "advice"
)

// Citation is why a rule exists: for a requirement, the sentence of the
// source that demands it, quoted exactly; for advice, optionally a
// recommending sentence or certmint's reason in words.
type Citation struct {
	// Source is an id of the table of sources, or, in a user template, the
	// name of the user's own document.
	Source string
	// Quote is the sentence, word for word. " ... " joins fragments that
	// appear in this order in the source.
	Quote string
	// Reason is certmint's own explanation (advice only).
	Reason string
}

// Citations are one rule's citations: usually one, sometimes a sentence
// from each of two sections (004's CDP: "URL to .crl file" in the CRT file
// requirements, "http:// rather than https://" under port access).
type Citations []Citation

// UnmarshalTOML accepts a table {source, quote, reason}, an array of such
// tables, or, as templates were written before the table of sources, a
// plain string: the quote, from the template's own source.
func (cs *Citations) UnmarshalTOML(v any) error {
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case []map[string]any:
		for _, m := range x {
			items = append(items, m)
		}
	default:
		items = []any{x}
	}
	if len(items) == 0 {
		return fmt.Errorf("an empty list cites nothing")
	}
	out := make(Citations, 0, len(items))
	for _, it := range items {
		c, err := citationFrom(it)
		if err != nil {
			return err
		}
		out = append(out, c)
	}
	*cs = out
	return nil
}

func citationFrom(v any) (Citation, error) {
	switch x := v.(type) {
	case string:
		return Citation{Quote: x}, nil
	case map[string]any:
		var c Citation
		for k, val := range x {
			s, ok := val.(string)
			if !ok {
				return c, fmt.Errorf("%s must be a string", k)
			}
			switch k {
			case "source":
				c.Source = s
			case "quote":
				c.Quote = s
			case "reason":
				c.Reason = s
			default:
				if sug := closestName(k, []string{"source", "quote", "reason"}); sug != "" {
					return c, fmt.Errorf("unknown key %q (did you mean %q?)", k, sug)
				}
				return c, fmt.Errorf("unknown key %q (a citation has source, quote and reason)", k)
			}
		}
		return c, nil
	}
	return Citation{}, fmt.Errorf("a citation is a string (the quoted sentence) or a table {source = \"...\", quote = \"...\"}, not %T", v)
}

// Quote is one cited sentence with its document and section.
type Quote struct {
	// Source is nil when the rule cites none.
	Source *Source `json:"source"`
	Text   string  `json:"quote"`
}

// Cited is a rule's level and its citations, resolved against the table of
// sources, as check and the issuing commands show them.
type Cited struct {
	Rule   string  `json:"rule"`
	Level  Level   `json:"level"`
	Quotes []Quote `json:"citations"`
	Reason string  `json:"reason"`
}

// String is the citations in one line: `Document — Section: "quote"`.
func (c Cited) String() string {
	var parts []string
	for _, q := range c.Quotes {
		switch {
		case q.Source != nil && q.Text != "":
			parts = append(parts, fmt.Sprintf("%s: %q", q.Source, q.Text))
		case q.Source != nil:
			parts = append(parts, q.Source.String())
		case q.Text != "":
			parts = append(parts, fmt.Sprintf("%q", q.Text))
		}
	}
	if c.Reason != "" {
		parts = append(parts, c.Reason)
	}
	return strings.Join(parts, "; ")
}

// Documents names the cited documents and sections, without the quotes:
// "Doc — Section A; Section B". The sections of the document named home
// are given alone.
func (c Cited) Documents(home string) string {
	var order []string
	sections := map[string][]string{}
	for _, q := range c.Quotes {
		if q.Source == nil {
			continue
		}
		if _, seen := sections[q.Source.Title]; !seen {
			order = append(order, q.Source.Title)
		}
		if q.Source.Section != "" && !slices.Contains(sections[q.Source.Title], q.Source.Section) {
			sections[q.Source.Title] = append(sections[q.Source.Title], q.Source.Section)
		} else if _, ok := sections[q.Source.Title]; !ok {
			sections[q.Source.Title] = nil
		}
	}
	var parts []string
	for _, title := range order {
		secs := strings.Join(sections[title], "; ")
		switch {
		case title == home && secs != "":
			parts = append(parts, secs)
		case secs != "":
			parts = append(parts, title+" — "+secs)
		default:
			parts = append(parts, title)
		}
	}
	return strings.Join(parts, "; ")
}

// SourceTitle is the title of the template's main document, "" when it
// names none.
func (t *Template) SourceTitle() string {
	if s := resolveSource(t.Source); s != nil {
		return s.Title
	}
	return ""
}

// resolveSource turns a citation's source into a table row. An id that is
// not in the table is a user template's own document, shown as written.
func resolveSource(id string) *Source {
	if id == "" {
		return nil
	}
	if s, ok := LookupSource(id); ok {
		return &s
	}
	return &Source{Title: id}
}

func (t *Template) resolve(rule string, level Level, cs Citations) Cited {
	c := Cited{Rule: rule, Level: level, Quotes: []Quote{}}
	var reasons []string
	for _, x := range cs {
		src := x.Source
		if src == "" && x.Quote != "" {
			src = t.Source
		}
		if x.Quote != "" || src != "" {
			c.Quotes = append(c.Quotes, Quote{Source: resolveSource(src), Text: x.Quote})
		}
		if x.Reason != "" {
			reasons = append(reasons, x.Reason)
		}
	}
	c.Reason = strings.Join(reasons, "; ")
	return c
}

// Rule returns a rule's level and citations. A rule is a requirement when
// the template cites a sentence for it in [cite]; every other rule is
// advice, explained by [advice] when the template says why. The
// validation steps (validation.*) are requirements whatever the template
// says: a certificate that does not chain, has expired, is revoked or does
// not match its key is refused by every validator. They cite the
// template's [cite] entry for the step, or for "validation", or else
// RFC 5280's path validation.
func (t *Template) Rule(rule string) Cited {
	if cs, ok := t.Cite[rule]; ok {
		return t.resolve(rule, Requirement, cs)
	}
	if strings.HasPrefix(rule, "validation.") {
		if cs, ok := t.Cite["validation"]; ok {
			return t.resolve(rule, Requirement, cs)
		}
		return t.resolve(rule, Requirement, Citations{{Source: "rfc5280-validation"}})
	}
	return t.resolve(rule, Advice, t.Advice[rule])
}

// IsRequirement reports whether breaking the rule fails check (and is
// refused by issue).
func (t *Template) IsRequirement(rule string) bool { return t.Rule(rule).Level == Requirement }

// IssuerKeyTypes are the key types the issuing CA may have, and the rule
// that says so: signature.issuer_key_types, or the key types of
// signature.algorithms (004's "SHA256RSA" needs an RSA CA). Empty: any.
func (t *Template) IssuerKeyTypes() ([]KeyType, string) {
	if len(t.Signature.IssuerKeyTypes) > 0 {
		return t.Signature.IssuerKeyTypes, "signature.issuer_key_types"
	}
	var out []KeyType
	for _, a := range t.Signature.Algorithms {
		if !slices.Contains(out, a.KeyType()) {
			out = append(out, a.KeyType())
		}
	}
	return out, "signature.algorithms"
}

// SourceDocument is the template's main document and section, for
// `templates list`.
func (t *Template) SourceDocument() string {
	if s := resolveSource(t.Source); s != nil {
		return s.String()
	}
	return ""
}

// Evaluates reports whether the template sets the rule, so that check
// evaluates it: a citation or advice for a rule the template does not set
// would never be shown.
func (t *Template) Evaluates(rule string) bool {
	switch rule {
	case "subject.require":
		return len(t.Subject.Require) > 1
	case "signature.algorithms":
		return len(t.Signature.Algorithms) > 0
	case "signature.issuer_key_types":
		return len(t.Signature.IssuerKeyTypes) > 0
	case "validity.max_days":
		return t.Validity.MaxDays > 0
	case "usage.key_usage":
		return len(t.Usage.KeyUsage) > 0
	case "usage.ext_key_usage":
		return len(t.Usage.ExtKeyUsage) > 0
	case "usage.ext_key_usage_only":
		return t.Usage.ExtKeyUsageOnly
	case "san.require":
		return t.SAN.Require && !t.SAN.RequireDNS
	case "san.require_dns":
		return t.SAN.RequireDNS
	case "san.cn_in_san":
		return t.SAN.CNInSAN
	case "revocation.crl_distribution_point":
		return t.Revocation.CRLDistributionPoint
	case "revocation.aia":
		return t.Revocation.AIA
	case "allow_self_signed":
		return !t.AllowSelfSigned
	case "unique_cn":
		return t.UniqueCN
	case "output.required":
		return len(t.Output.Required) > 0
	case "output.pfx_encryption", "output.pfx_chain":
		return t.HasFormat(FormatPFX)
	case "output.optional":
		return len(t.Output.Optional) > 0
	}
	return slices.Contains(RuleKeys, rule)
}

// RuleKeys are the rules a template can cite or advise on: the template
// keys check evaluates, and the validation steps.
var RuleKeys = []string{
	"subject.require", "subject.cn",
	"key.allowed_types", "key.allowed_bits", "key.allowed_curves",
	"signature.allowed", "signature.algorithms", "signature.issuer_key_types",
	"validity.backdate", "validity.max_days",
	"usage.key_usage", "usage.ext_key_usage", "usage.ext_key_usage_only", "end_entity",
	"san.require", "san.require_dns", "san.cn_in_san", "san.allow_dns", "san.allow_wildcard", "san.allow_ip", "san.allow_email", "san.allow_uri",
	"revocation.crl_distribution_point", "revocation.aia",
	"allow_self_signed", "unique_cn",
	"output.required", "output.optional", "output.pfx_encryption", "output.pfx_chain",
	"validation", "validation.chain", "validation.key", "validation.expiry", "validation.revocation",
}
