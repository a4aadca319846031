package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"text/template"
)

// ChannelType names a kind of notification destination.
type ChannelType string

// Channel types.
const (
	ChannelWebhook  ChannelType = "webhook"
	ChannelSlack    ChannelType = "slack"
	ChannelDingTalk ChannelType = "dingtalk"
	ChannelWeCom    ChannelType = "wecom"
	ChannelFeishu   ChannelType = "feishu"
	ChannelEmail    ChannelType = "email"
)

// ChannelTypes lists every channel type.
var ChannelTypes = []ChannelType{ChannelWebhook, ChannelSlack, ChannelDingTalk, ChannelWeCom, ChannelFeishu, ChannelEmail}

// WebhookConfig is a generic webhook: POST (or Method) of the notification as
// JSON, or of Template (Go text/template over Notification) when set.
type WebhookConfig struct {
	URL         string            `json:"url"`
	Method      string            `json:"method,omitempty"`      // POST (default) or PUT
	Headers     map[string]string `json:"headers,omitempty"`     // sent as is; secret-looking ones are redacted
	Template    string            `json:"template,omitempty"`    // body template; default: the Notification as JSON
	ContentType string            `json:"contentType,omitempty"` // default application/json
}

// SlackConfig is a Slack incoming webhook.
type SlackConfig struct {
	URL string `json:"url"`
}

// DingTalkConfig is a DingTalk custom robot; Secret enables signing.
type DingTalkConfig struct {
	URL       string   `json:"url"`
	Secret    string   `json:"secret,omitempty"`
	AtMobiles []string `json:"atMobiles,omitempty"`
	AtAll     bool     `json:"atAll,omitempty"`
}

// WeComConfig is a WeCom (企业微信) group robot.
type WeComConfig struct {
	URL string `json:"url"`
}

// FeishuConfig is a Feishu (飞书) custom bot; Secret enables signing.
type FeishuConfig struct {
	URL    string `json:"url"`
	Secret string `json:"secret,omitempty"`
}

// EmailConfig is an SMTP relay. TLS is "starttls" (default: upgrade, and fail
// if the server cannot), "tls" (implicit TLS, usually port 465) or "none".
// Credentials enable AUTH PLAIN, which Go refuses over an unencrypted
// connection except to localhost.
type EmailConfig struct {
	Host               string   `json:"host"`
	Port               int      `json:"port"`
	Username           string   `json:"username,omitempty"`
	Password           string   `json:"password,omitempty"`
	From               string   `json:"from"`
	To                 []string `json:"to"`
	TLS                string   `json:"tls,omitempty"`
	InsecureSkipVerify bool     `json:"insecureSkipVerify,omitempty"`
	SubjectPrefix      string   `json:"subjectPrefix,omitempty"`
	HelloName          string   `json:"helloName,omitempty"` // EHLO name; default "localhost"
}

// channelConfig is implemented by every config type.
type channelConfig interface {
	validate(ps *problems)
	// redacted returns a copy with every secret masked.
	redacted() channelConfig
	// keepSecrets replaces fields that still hold the masked form of the
	// stored config's secret with the stored secret.
	keepSecrets(stored channelConfig)
	newSender(o senderOptions) (Sender, error)
}

func newConfig(t ChannelType) (channelConfig, bool) {
	switch t {
	case ChannelWebhook:
		return &WebhookConfig{}, true
	case ChannelSlack:
		return &SlackConfig{}, true
	case ChannelDingTalk:
		return &DingTalkConfig{}, true
	case ChannelWeCom:
		return &WeComConfig{}, true
	case ChannelFeishu:
		return &FeishuConfig{}, true
	case ChannelEmail:
		return &EmailConfig{}, true
	}
	return nil, false
}

// parseConfig decodes raw as t's config; unknown fields are errors so a typo
// ("secert") is not silently ignored.
func parseConfig(t ChannelType, raw json.RawMessage) (channelConfig, error) {
	c, ok := newConfig(t)
	if !ok {
		names := make([]string, len(ChannelTypes))
		for i, ct := range ChannelTypes {
			names[i] = string(ct)
		}
		return nil, &ValidationError{Problems: []Problem{{Field: "type", Message: fmt.Sprintf("must be one of %s (got %q)", strings.Join(names, ", "), t)}}}
	}
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		raw = json.RawMessage("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return nil, &ValidationError{Problems: []Problem{{Field: "config", Message: "is not a valid " + string(t) + " configuration: " + err.Error()}}}
	}
	return c, nil
}

// ValidateConfig checks a channel's config for its type.
func ValidateConfig(t ChannelType, raw json.RawMessage) error {
	c, err := parseConfig(t, raw)
	if err != nil {
		return err
	}
	var ps problems
	c.validate(&ps)
	return ps.err()
}

// Redact returns config with its secrets masked (webhook headers such as
// Authorization, robot tokens in URLs, signing secrets, the SMTP password).
// Sending the masked value back on update keeps the stored secret.
func Redact(t ChannelType, raw json.RawMessage) (json.RawMessage, error) {
	c, err := parseConfig(t, raw)
	if err != nil {
		return nil, err
	}
	return json.Marshal(c.redacted())
}

// mergeConfig is the update path: incoming with masked secrets replaced by
// the stored ones (when the type did not change).
func mergeConfig(t ChannelType, stored, incoming json.RawMessage, storedType ChannelType) (channelConfig, error) {
	in, err := parseConfig(t, incoming)
	if err != nil {
		return nil, err
	}
	if storedType == t {
		if old, err := parseConfig(t, stored); err == nil {
			in.keepSecrets(old)
		}
	}
	return in, nil
}

const mask = "******"

// maskSecret keeps the last 4 characters of long secrets so people can tell them apart.
func maskSecret(s string) string {
	if s == "" {
		return ""
	}
	if len(s) >= 16 {
		return mask + s[len(s)-4:]
	}
	return mask
}

func keep(field *string, stored string) {
	if *field != "" && *field == maskSecret(stored) {
		*field = stored
	}
}

// secretQuery are query parameters that carry credentials in robot and webhook URLs.
var secretQuery = []string{"access_token", "token", "key", "secret", "sign", "signature", "sig", "apikey", "api_key", "password", "auth"}

// maskURL hides the credentials in a URL: the userinfo password, secret
// query values, and, with pathToo, the path after its first segments (Slack
// and Feishu put the token in the path).
func maskURL(raw string, keepSegments int) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return maskSecret(raw)
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), mask)
		}
	}
	if keepSegments >= 0 {
		segs := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
		if len(segs) > keepSegments {
			tail := strings.Join(segs[keepSegments:], "/")
			segs = append(segs[:keepSegments], maskSecret(tail))
			u.Path = "/" + strings.Join(segs, "/")
			u.RawPath = ""
		}
	}
	q := u.Query()
	changed := false
	for k, vs := range q {
		for _, s := range secretQuery {
			if strings.EqualFold(k, s) {
				for i := range vs {
					vs[i] = maskSecret(vs[i])
				}
				changed = true
			}
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

func keepURL(field *string, stored string, keepSegments int) {
	if *field != "" && *field != stored && *field == maskURL(stored, keepSegments) {
		*field = stored
	}
}

func checkURL(ps *problems, field, raw string) {
	if raw == "" {
		ps.add(field, "is required")
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		ps.add(field, "is not a valid URL: %v", err)
		return
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		ps.add(field, "must be an http:// or https:// URL (got %q)", raw)
		return
	}
	if u.Host == "" {
		ps.add(field, "must name a host")
	}
	if strings.Contains(raw, mask) {
		ps.add(field, "still contains the masked placeholder %q; paste the full URL", mask)
	}
}

func noMask(ps *problems, field, v string) {
	if strings.Contains(v, mask) {
		ps.add(field, "still contains the masked placeholder %q; type the full value", mask)
	}
}

// Webhook.

func secretHeader(name string) bool {
	n := strings.ToLower(name)
	if n == "authorization" || n == "proxy-authorization" || n == "cookie" {
		return true
	}
	for _, s := range []string{"token", "secret", "key", "auth", "password", "signature", "credential"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

func (c *WebhookConfig) validate(ps *problems) {
	checkURL(ps, "config.url", c.URL)
	switch strings.ToUpper(c.Method) {
	case "", "POST", "PUT", "PATCH":
	default:
		ps.add("config.method", "must be POST, PUT or PATCH (got %q)", c.Method)
	}
	for k, v := range c.Headers {
		if strings.TrimSpace(k) == "" || strings.ContainsAny(k, " :\r\n") {
			ps.add("config.headers", "%q is not a valid header name", k)
		}
		if strings.ContainsAny(v, "\r\n") {
			ps.add("config.headers", "the value of %s must be one line", k)
		}
		noMask(ps, "config.headers."+k, v)
	}
	if c.Template != "" {
		if _, err := parseBodyTemplate(c.Template); err != nil {
			ps.add("config.template", "is not a valid Go template: %v", err)
		}
	}
}

func parseBodyTemplate(s string) (*template.Template, error) {
	return template.New("body").Funcs(template.FuncMap{"json": toJSON}).Option("missingkey=zero").Parse(s)
}

// toJSON is the template function {{json .Summary}}: a JSON-quoted value, so
// templates build valid JSON bodies.
func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func (c *WebhookConfig) redacted() channelConfig {
	r := *c
	r.URL = maskURL(c.URL, -1)
	if c.Headers != nil {
		r.Headers = make(map[string]string, len(c.Headers))
		for k, v := range c.Headers {
			if secretHeader(k) {
				v = maskSecret(v)
			}
			r.Headers[k] = v
		}
	}
	return &r
}

func (c *WebhookConfig) keepSecrets(stored channelConfig) {
	old, ok := stored.(*WebhookConfig)
	if !ok {
		return
	}
	keepURL(&c.URL, old.URL, -1)
	for k, v := range c.Headers {
		if ov, ok := old.Headers[k]; ok && secretHeader(k) {
			keep(&v, ov)
			c.Headers[k] = v
		}
	}
}

// Slack: the whole path after /services/ is the token.

func (c *SlackConfig) validate(ps *problems)       { checkURL(ps, "config.url", c.URL) }
func (c *SlackConfig) redacted() channelConfig     { return &SlackConfig{URL: maskURL(c.URL, 1)} }
func (c *SlackConfig) keepSecrets(s channelConfig) { keepURL(&c.URL, s.(*SlackConfig).URL, 1) }

// DingTalk: access_token query parameter and the signing secret.

func (c *DingTalkConfig) validate(ps *problems) {
	checkURL(ps, "config.url", c.URL)
	noMask(ps, "config.secret", c.Secret)
}

func (c *DingTalkConfig) redacted() channelConfig {
	r := *c
	r.URL, r.Secret = maskURL(c.URL, -1), maskSecret(c.Secret)
	return &r
}

func (c *DingTalkConfig) keepSecrets(s channelConfig) {
	old := s.(*DingTalkConfig)
	keepURL(&c.URL, old.URL, -1)
	keep(&c.Secret, old.Secret)
}

// WeCom: the key query parameter.

func (c *WeComConfig) validate(ps *problems)       { checkURL(ps, "config.url", c.URL) }
func (c *WeComConfig) redacted() channelConfig     { return &WeComConfig{URL: maskURL(c.URL, -1)} }
func (c *WeComConfig) keepSecrets(s channelConfig) { keepURL(&c.URL, s.(*WeComConfig).URL, -1) }

// Feishu: the hook token is the path's last segment (/open-apis/bot/v2/hook/<token>).

func (c *FeishuConfig) validate(ps *problems) {
	checkURL(ps, "config.url", c.URL)
	noMask(ps, "config.secret", c.Secret)
}

func (c *FeishuConfig) redacted() channelConfig {
	return &FeishuConfig{URL: maskURL(c.URL, feishuKeep(c.URL)), Secret: maskSecret(c.Secret)}
}

func (c *FeishuConfig) keepSecrets(s channelConfig) {
	old := s.(*FeishuConfig)
	keepURL(&c.URL, old.URL, feishuKeep(old.URL))
	keep(&c.Secret, old.Secret)
}

// feishuKeep keeps every path segment but the last (the token).
func feishuKeep(raw string) int {
	u, err := url.Parse(raw)
	if err != nil {
		return 0
	}
	return max(len(strings.Split(strings.TrimPrefix(u.Path, "/"), "/"))-1, 0)
}

// E-mail.

func (c *EmailConfig) validate(ps *problems) {
	if strings.TrimSpace(c.Host) == "" {
		ps.add("config.host", "is required (the SMTP server's host name)")
	}
	if c.Port < 1 || c.Port > 65535 {
		ps.add("config.port", "must be between 1 and 65535 (usually 587 for STARTTLS, 465 for TLS, 25 for none)")
	}
	if c.From == "" {
		ps.add("config.from", "is required")
	} else if _, err := mail.ParseAddress(c.From); err != nil {
		ps.add("config.from", "%q is not an e-mail address: %v", c.From, err)
	}
	if len(c.To) == 0 {
		ps.add("config.to", "needs at least one recipient")
	}
	for _, to := range c.To {
		if _, err := mail.ParseAddress(to); err != nil {
			ps.add("config.to", "%q is not an e-mail address: %v", to, err)
		}
	}
	switch c.TLS {
	case "", "starttls", "tls", "none":
	default:
		ps.add("config.tls", "must be starttls, tls or none (got %q)", c.TLS)
	}
	if c.Password != "" && c.Username == "" {
		ps.add("config.username", "is required when a password is set")
	}
	noMask(ps, "config.password", c.Password)
	if strings.ContainsAny(c.SubjectPrefix, "\r\n") {
		ps.add("config.subjectPrefix", "must be one line")
	}
}

func (c *EmailConfig) redacted() channelConfig {
	r := *c
	r.Password = maskSecret(c.Password)
	return &r
}

func (c *EmailConfig) keepSecrets(s channelConfig) { keep(&c.Password, s.(*EmailConfig).Password) }
