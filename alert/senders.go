package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// senderOptions are what senders need from the evaluator.
type senderOptions struct {
	client *http.Client
	now    func() time.Time
}

// NewSender builds the Sender for a channel's type and (unredacted) config.
// client may be nil (a client with a 15 s timeout is used); now may be nil.
func NewSender(t ChannelType, config json.RawMessage, client *http.Client, now func() time.Time) (Sender, error) {
	c, err := parseConfig(t, config)
	if err != nil {
		return nil, err
	}
	var ps problems
	c.validate(&ps)
	if err := ps.err(); err != nil {
		return nil, err
	}
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	return c.newSender(senderOptions{client: client, now: now})
}

// permanentError marks a failure that retrying cannot fix (a 4xx answer).
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func isPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// post sends body and returns the response body (first 64 KiB). Non-2xx
// answers are errors; 4xx ones other than 408 and 429 are permanent.
func post(ctx context.Context, client *http.Client, method, target, contentType string, headers map[string]string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, &permanentError{fmt.Errorf("building the request: %w", err)}
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "osprey-alert/1")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("sending to %s: %w", redactedHost(target), err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		err := fmt.Errorf("%s answered %s: %s", redactedHost(target), resp.Status, strings.TrimSpace(truncate(string(data), 300)))
		if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
			return data, &permanentError{err}
		}
		return data, err
	}
	return data, nil
}

// redactedHost names the destination in errors without its token.
func redactedHost(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return "the destination"
	}
	return u.Scheme + "://" + u.Host
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func postJSON(ctx context.Context, client *http.Client, target string, v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, &permanentError{fmt.Errorf("encoding the message: %w", err)}
	}
	return post(ctx, client, http.MethodPost, target, "application/json", nil, body)
}

// Webhook.

type webhookSender struct {
	cfg    WebhookConfig
	tmpl   *template.Template
	client *http.Client
}

func (c *WebhookConfig) newSender(o senderOptions) (Sender, error) {
	s := &webhookSender{cfg: *c, client: o.client}
	if c.Template != "" {
		t, err := parseBodyTemplate(c.Template)
		if err != nil {
			return nil, fmt.Errorf("parsing the webhook template: %w", err)
		}
		s.tmpl = t
	}
	return s, nil
}

func (s *webhookSender) Send(ctx context.Context, n Notification) error {
	var body []byte
	if s.tmpl != nil {
		var b bytes.Buffer
		if err := s.tmpl.Execute(&b, n); err != nil {
			return &permanentError{fmt.Errorf("executing the webhook template: %w", err)}
		}
		body = b.Bytes()
	} else {
		var err error
		if body, err = json.Marshal(n); err != nil {
			return &permanentError{fmt.Errorf("encoding the notification: %w", err)}
		}
	}
	method := strings.ToUpper(s.cfg.Method)
	if method == "" {
		method = http.MethodPost
	}
	ct := s.cfg.ContentType
	if ct == "" {
		ct = "application/json"
	}
	_, err := post(ctx, s.client, method, s.cfg.URL, ct, s.cfg.Headers, body)
	return err
}

// Slack incoming webhook: {"text": ...}; answers "ok" or an error status.

type slackSender struct {
	url    string
	client *http.Client
}

func (c *SlackConfig) newSender(o senderOptions) (Sender, error) {
	return &slackSender{url: c.URL, client: o.client}, nil
}

func (s *slackSender) Send(ctx context.Context, n Notification) error {
	_, err := postJSON(ctx, s.client, s.url, map[string]string{"text": slackText(n)})
	return err
}

// slackText is Slack mrkdwn: bold title, the summary, the fields, a link.
func slackText(n Notification) string {
	esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	var b strings.Builder
	fmt.Fprintf(&b, "*%s*\n", esc.Replace(n.Title()))
	if n.Summary != "" {
		fmt.Fprintf(&b, "%s\n", esc.Replace(n.Summary))
	}
	for _, l := range n.lines() {
		if l[0] == "Link" {
			fmt.Fprintf(&b, "<%s|Open in Osprey>\n", l[1])
			continue
		}
		fmt.Fprintf(&b, "*%s*: %s\n", l[0], esc.Replace(l[1]))
	}
	return b.String()
}

// robotReply is the body DingTalk and WeCom answer with (HTTP 200 even on errors).
type robotReply struct {
	ErrCode *int   `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	// Feishu
	Code       *int   `json:"code"`
	Msg        string `json:"msg"`
	StatusCode *int   `json:"StatusCode"`
}

func checkRobotReply(vendor string, data []byte) error {
	var r robotReply
	if err := json.Unmarshal(data, &r); err != nil {
		return nil // not JSON: the HTTP status already said OK
	}
	switch {
	case r.ErrCode != nil && *r.ErrCode != 0:
		return fmt.Errorf("%s refused the message: errcode %d: %s", vendor, *r.ErrCode, r.ErrMsg)
	case r.Code != nil && *r.Code != 0:
		return fmt.Errorf("%s refused the message: code %d: %s", vendor, *r.Code, r.Msg)
	case r.StatusCode != nil && *r.StatusCode != 0:
		return fmt.Errorf("%s refused the message: StatusCode %d", vendor, *r.StatusCode)
	}
	return nil
}

// DingTalk robot: markdown message; signed robots take timestamp (ms) and
// sign = base64(HMAC-SHA256(key=secret, timestamp+"\n"+secret)) as query parameters.

type dingTalkSender struct {
	cfg    DingTalkConfig
	client *http.Client
	now    func() time.Time
}

func (c *DingTalkConfig) newSender(o senderOptions) (Sender, error) {
	return &dingTalkSender{cfg: *c, client: o.client, now: o.now}, nil
}

// DingTalkSign computes a signed DingTalk robot's sign for timestamp (ms).
func DingTalkSign(secret string, timestampMs int64) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(timestampMs, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func (s *dingTalkSender) Send(ctx context.Context, n Notification) error {
	target := s.cfg.URL
	if s.cfg.Secret != "" {
		u, err := url.Parse(target)
		if err != nil {
			return &permanentError{fmt.Errorf("parsing the DingTalk URL: %w", err)}
		}
		ts := s.now().UnixMilli()
		q := u.Query()
		q.Set("timestamp", strconv.FormatInt(ts, 10))
		q.Set("sign", DingTalkSign(s.cfg.Secret, ts))
		u.RawQuery = q.Encode()
		target = u.String()
	}
	text := n.Markdown()
	for _, m := range s.cfg.AtMobiles {
		text += "\n@" + m // DingTalk only notifies mobiles also named in the text
	}
	msg := map[string]any{
		"msgtype":  "markdown",
		"markdown": map[string]string{"title": n.Title(), "text": text},
	}
	if len(s.cfg.AtMobiles) > 0 || s.cfg.AtAll {
		msg["at"] = map[string]any{"atMobiles": s.cfg.AtMobiles, "isAtAll": s.cfg.AtAll}
	}
	data, err := postJSON(ctx, s.client, target, msg)
	if err != nil {
		return err
	}
	return checkRobotReply("DingTalk", data)
}

// WeCom robot: {"msgtype":"markdown","markdown":{"content":...}} (4096 bytes max).

type weComSender struct {
	url    string
	client *http.Client
}

func (c *WeComConfig) newSender(o senderOptions) (Sender, error) {
	return &weComSender{url: c.URL, client: o.client}, nil
}

func (s *weComSender) Send(ctx context.Context, n Notification) error {
	content := truncateUTF8(n.Markdown(), 4000)
	data, err := postJSON(ctx, s.client, s.url, map[string]any{
		"msgtype":  "markdown",
		"markdown": map[string]string{"content": content},
	})
	if err != nil {
		return err
	}
	return checkRobotReply("WeCom", data)
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// Feishu bot: {"msg_type":"text","content":{"text":...}}; signed bots add
// "timestamp" (s, as a string) and "sign" = base64(HMAC-SHA256(key =
// timestamp+"\n"+secret, message = empty)) to the body.

type feishuSender struct {
	cfg    FeishuConfig
	client *http.Client
	now    func() time.Time
}

func (c *FeishuConfig) newSender(o senderOptions) (Sender, error) {
	return &feishuSender{cfg: *c, client: o.client, now: o.now}, nil
}

// FeishuSign computes a signed Feishu bot's sign for timestamp (s).
func FeishuSign(secret string, timestamp int64) string {
	m := hmac.New(sha256.New, []byte(strconv.FormatInt(timestamp, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func (s *feishuSender) Send(ctx context.Context, n Notification) error {
	msg := map[string]any{
		"msg_type": "text",
		"content":  map[string]string{"text": n.Text()},
	}
	if s.cfg.Secret != "" {
		ts := s.now().Unix()
		msg["timestamp"] = strconv.FormatInt(ts, 10)
		msg["sign"] = FeishuSign(s.cfg.Secret, ts)
	}
	data, err := postJSON(ctx, s.client, s.cfg.URL, msg)
	if err != nil {
		return err
	}
	return checkRobotReply("Feishu", data)
}
