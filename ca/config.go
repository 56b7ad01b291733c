package ca

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/certmint/certmint/internal/input"
	"github.com/certmint/certmint/store"
	"github.com/certmint/certmint/templates"
)

// ConfigFile is the name of the CA configuration in the home.
const ConfigFile = "certmint.toml"

// Config is certmint.toml: the CAs, where their CRLs and certificates are
// published, the subject defaults of requests, and how long CRLs live.
type Config struct {
	// BaseURL is the http:// folder where public/ is served. The CDP of every
	// certificate is BaseURL/<issuer-slug>.crl and its AIA caIssuers
	// BaseURL/<issuer-slug>.crt.
	BaseURL string   `toml:"base_url"`
	Root    CAConfig `toml:"root"`
	Issuing CAConfig `toml:"issuing"`
	// Subject holds the fields init was given; a certmint.toml written
	// before the table existed loads with none.
	Subject  SubjectDefaults `toml:"subject"`
	CRL      CRLConfig       `toml:"crl"`
	Database DatabaseConfig  `toml:"database"`

	path string // the file it was loaded from, for hints
}

// CAConfig names one CA.
type CAConfig struct {
	Slug string `toml:"slug"` // folder name and public/ file name
	CN   string `toml:"cn"`
	Key  string `toml:"key"`  // "rsa:4096", "ecdsa:P-384"
	Days int    `toml:"days"` // validity given at init
}

// CRLConfig: how long each CRL is valid (nextUpdate - thisUpdate).
type CRLConfig struct {
	IssuingDays int `toml:"issuing_days"` // default 7
	RootDays    int `toml:"root_days"`    // default 180
}

// DatabaseConfig says where the issuance database is.
type DatabaseConfig struct {
	// URL is a postgres:// URL for a CA whose database several hosts
	// share; empty means the SQLite file certmint.db in the home. It never
	// holds a password (certmint.toml is as readable as the home): the
	// password comes from the URL Open is given (WithDatabaseURL: the
	// command line's CERTMINT_DATABASE_URL), which overrides URL, from
	// ~/.pgpass or from PGPASSWORD.
	URL string `toml:"url"`
}

// Defaults for a new CA.
const (
	DefaultRootDays       = 20 * 365
	DefaultIssuingDays    = 10 * 365
	DefaultCRLIssuingDays = 7
	DefaultCRLRootDays    = 180
)

func (c *Config) applyDefaults() {
	if c.CRL.IssuingDays == 0 {
		c.CRL.IssuingDays = DefaultCRLIssuingDays
	}
	if c.CRL.RootDays == 0 {
		c.CRL.RootDays = DefaultCRLRootDays
	}
}

// CRLURL is the CDP written into certificates issued by the CA with slug.
func (c *Config) CRLURL(slug string) string { return c.BaseURL + "/" + slug + ".crl" }

// CertURL is the AIA caIssuers URL for the CA with slug.
func (c *Config) CertURL(slug string) string { return c.BaseURL + "/" + slug + ".crt" }

var slugRe = regexp.MustCompile(`[^a-z0-9]+`)

// Slug turns a CA name into a file and URL name: "Contoso Issuing CA 1" ->
// "contoso-issuing-ca-1".
func Slug(cn string) string {
	s := strings.Trim(slugRe.ReplaceAllString(strings.ToLower(cn), "-"), "-")
	if len(s) > 48 {
		s = strings.TrimRight(s[:48], "-")
	}
	return s
}

// LoadConfig reads certmint.toml strictly.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Config
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&c)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("%s: unknown key %q", path, und[0].String())
	}
	c.applyDefaults()
	c.path = path
	if msg := c.Subject.normalize(func(key string, _ input.Name) any { return path + ": subject." + key }); !msg.IsZero() {
		return nil, errors.New(msg.String())
	}
	// Checked and normalised as init does: a base_url edited by hand
	// reaches every CDP and AIA URL issued from now on.
	if c.BaseURL, err = ValidateBaseURL(c.BaseURL); err != nil {
		return nil, fmt.Errorf("%s: %w (fix base_url there)", path, err)
	}
	if c.Root.Slug == "" || c.Issuing.Slug == "" {
		return nil, errors.New(path + ": root.slug and issuing.slug are required")
	}
	if c.CRL.IssuingDays < 1 || c.CRL.RootDays < 1 {
		return nil, errors.New(path + ": crl.issuing_days and crl.root_days must be at least 1")
	}
	// A count past this would overflow days*24h into a CRL whose
	// nextUpdate comes before its thisUpdate.
	if c.CRL.IssuingDays > templates.MaxDays || c.CRL.RootDays > templates.MaxDays {
		return nil, fmt.Errorf("%s: crl.issuing_days and crl.root_days must be at most %d", path, templates.MaxDays)
	}
	if c.Database.URL != "" {
		u, err := store.ParseDatabaseURL(c.Database.URL)
		if err != nil {
			return nil, fmt.Errorf("%s: database.url: %w", path, err)
		}
		if store.URLHasPassword(u) {
			return nil, fmt.Errorf("%s: %w", path, &store.DatabasePasswordError{Where: "database.url"})
		}
	}
	return &c, nil
}

// Encode writes the configuration as commented TOML.
func (c *Config) Encode() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# certmint CA configuration. Written by `certmint init`; edit with care:\n")
	b.WriteString("# base_url is already inside every issued certificate.\n")
	b.WriteString("# [subject] (keys c, st, l, o, ou) fills the subject fields a template requires and a\n")
	b.WriteString("# request does not give; what the request gives wins.\n")
	if c.Database.URL != "" {
		b.WriteString("# database.url holds no password: certmint takes it from " + DatabaseURLEnv + " (the whole\n")
		b.WriteString("# URL, which overrides this one), ~/.pgpass or PGPASSWORD.\n")
	}
	b.WriteString("\n")
	if err := toml.NewEncoder(&b).Encode(c); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
