package alert

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

func sampleNotification() Notification {
	return Notification{
		State: StateFiring, RuleID: 3, RuleName: "orders lag", Kind: KindLagMessages, Severity: SeverityCritical,
		Cluster: "prod", Subject: "group billing / topic orders", Labels: map[string]string{"group": "billing", "topic": "orders"},
		Value: 1500, Threshold: 1000, Summary: "Consumer group billing on topic orders: lag 1500 messages (threshold 1000)",
		StartedAt: time.Date(2026, 3, 1, 11, 58, 0, 0, time.UTC), Link: "http://console.test/clusters/prod/groups/billing",
		Fingerprint: "abc", EventID: 7,
	}
}

func send(t *testing.T, typ ChannelType, cfg any, now time.Time) error {
	t.Helper()
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSender(typ, raw, nil, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	return s.Send(context.Background(), sampleNotification())
}

func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func decodeBody(t *testing.T, r recorded) map[string]any {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q", ct)
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, r.Body)
	}
	return m
}

// mustContainFacts checks the message names what an on-call person needs.
func mustContainFacts(t *testing.T, text string) {
	t.Helper()
	for _, want := range []string{"FIRING", "critical", "prod", "group billing / topic orders", "1500", "1000", "2026-03-01T11:58:00Z", "http://console.test/clusters/prod/groups/billing"} {
		if !strings.Contains(text, want) {
			t.Errorf("message lacks %q:\n%s", want, text)
		}
	}
}

func TestSlackPayload(t *testing.T) {
	rcv := newReceiver(t)
	rcv.reply = "ok"
	if err := send(t, ChannelSlack, SlackConfig{URL: rcv.URL + "/services/T0/B0/XYZ"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	r := rcv.requests()[0]
	if r.Method != "POST" || r.URL != "/services/T0/B0/XYZ" {
		t.Fatalf("%s %s", r.Method, r.URL)
	}
	m := decodeBody(t, r)
	if !reflect.DeepEqual(keysOf(m), []string{"text"}) {
		t.Fatalf("slack body keys %v", keysOf(m))
	}
	text := m["text"].(string)
	mustContainFacts(t, text)
	if !strings.Contains(text, "<http://console.test/clusters/prod/groups/billing|Open in Osprey>") {
		t.Fatalf("slack link: %s", text)
	}
}

func TestDingTalkPayloadAndSignature(t *testing.T) {
	rcv := newReceiver(t)
	now := time.UnixMilli(1772366400123)
	secret := "SEC0123456789abcdef"
	err := send(t, ChannelDingTalk, DingTalkConfig{URL: rcv.URL + "/robot/send?access_token=tok123", Secret: secret, AtMobiles: []string{"13800000000"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	r := rcv.requests()[0]
	u, err := url.Parse(r.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("access_token") != "tok123" || q.Get("timestamp") != "1772366400123" {
		t.Fatalf("query %s", u.RawQuery)
	}
	// Recompute: base64(HMAC-SHA256(key=secret, timestamp+"\n"+secret)), URL-encoded.
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("1772366400123\n" + secret))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if q.Get("sign") != want {
		t.Fatalf("sign %q, want %q", q.Get("sign"), want)
	}
	if !strings.Contains(u.RawQuery, "sign="+url.QueryEscape(want)) {
		t.Fatalf("sign not URL-encoded in %q", u.RawQuery)
	}
	m := decodeBody(t, r)
	if !reflect.DeepEqual(keysOf(m), []string{"at", "markdown", "msgtype"}) || m["msgtype"] != "markdown" {
		t.Fatalf("body %s", r.Body)
	}
	md := m["markdown"].(map[string]any)
	if !reflect.DeepEqual(keysOf(md), []string{"text", "title"}) || !strings.Contains(md["title"].(string), "FIRING") {
		t.Fatalf("markdown %v", md)
	}
	mustContainFacts(t, md["text"].(string))
	at := m["at"].(map[string]any)
	if at["isAtAll"] != false || !reflect.DeepEqual(at["atMobiles"], []any{"13800000000"}) || !strings.Contains(md["text"].(string), "@13800000000") {
		t.Fatalf("at %v", at)
	}

	// Unsigned robots get no timestamp/sign, and an errcode is a failure.
	rcv2 := newReceiver(t)
	rcv2.reply = `{"errcode":310000,"errmsg":"keywords not in content"}`
	err = send(t, ChannelDingTalk, DingTalkConfig{URL: rcv2.URL + "/robot/send?access_token=x"}, now)
	if err == nil || !strings.Contains(err.Error(), "310000") {
		t.Fatalf("err = %v", err)
	}
	if u := rcv2.requests()[0].URL; strings.Contains(u, "sign=") || strings.Contains(u, "timestamp=") {
		t.Fatalf("unsigned URL %s", u)
	}
	if m := decodeBody(t, rcv2.requests()[0]); m["at"] != nil {
		t.Fatalf("at without mentions: %v", m["at"])
	}
}

func TestWeComPayload(t *testing.T) {
	rcv := newReceiver(t)
	if err := send(t, ChannelWeCom, WeComConfig{URL: rcv.URL + "/cgi-bin/webhook/send?key=k1"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	r := rcv.requests()[0]
	if r.URL != "/cgi-bin/webhook/send?key=k1" {
		t.Fatalf("url %s", r.URL)
	}
	m := decodeBody(t, r)
	if !reflect.DeepEqual(keysOf(m), []string{"markdown", "msgtype"}) || m["msgtype"] != "markdown" {
		t.Fatalf("body %s", r.Body)
	}
	md := m["markdown"].(map[string]any)
	if !reflect.DeepEqual(keysOf(md), []string{"content"}) {
		t.Fatalf("markdown %v", md)
	}
	mustContainFacts(t, md["content"].(string))
}

func TestFeishuPayloadAndSignature(t *testing.T) {
	rcv := newReceiver(t)
	rcv.reply = `{"code":0,"msg":"success","data":{}}`
	now := time.Unix(1772366400, 0)
	secret := "feishu-secret-xyz"
	if err := send(t, ChannelFeishu, FeishuConfig{URL: rcv.URL + "/open-apis/bot/v2/hook/hooktoken", Secret: secret}, now); err != nil {
		t.Fatal(err)
	}
	m := decodeBody(t, rcv.requests()[0])
	if !reflect.DeepEqual(keysOf(m), []string{"content", "msg_type", "sign", "timestamp"}) || m["msg_type"] != "text" {
		t.Fatalf("body %v", m)
	}
	if m["timestamp"] != "1772366400" {
		t.Fatalf("timestamp %#v (want seconds, as a string)", m["timestamp"])
	}
	// Recompute: base64(HMAC-SHA256(key=timestamp+"\n"+secret, message=empty)).
	mac := hmac.New(sha256.New, []byte(strconv.FormatInt(now.Unix(), 10)+"\n"+secret))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); m["sign"] != want {
		t.Fatalf("sign %v, want %s", m["sign"], want)
	}
	content := m["content"].(map[string]any)
	if !reflect.DeepEqual(keysOf(content), []string{"text"}) {
		t.Fatalf("content %v", content)
	}
	mustContainFacts(t, content["text"].(string))

	rcv.reply = `{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}`
	if err := send(t, ChannelFeishu, FeishuConfig{URL: rcv.URL + "/open-apis/bot/v2/hook/x"}, now); err == nil || !strings.Contains(err.Error(), "19021") {
		t.Fatalf("err = %v", err)
	}
	if m := decodeBody(t, rcv.requests()[1]); m["sign"] != nil || m["timestamp"] != nil {
		t.Fatalf("unsigned body has a signature: %v", m)
	}
}

func TestWebhookPayload(t *testing.T) {
	rcv := newReceiver(t)
	if err := send(t, ChannelWebhook, WebhookConfig{URL: rcv.URL + "/hook", Headers: map[string]string{"Authorization": "Bearer s3cr3t", "X-Team": "data"}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	r := rcv.requests()[0]
	if r.Header.Get("Authorization") != "Bearer s3cr3t" || r.Header.Get("X-Team") != "data" {
		t.Fatalf("headers %v", r.Header)
	}
	var n Notification
	if err := json.Unmarshal(r.Body, &n); err != nil {
		t.Fatal(err)
	}
	if want := sampleNotification(); !reflect.DeepEqual(n, want) {
		t.Fatalf("webhook body\n got %+v\nwant %+v", n, want)
	}

	// A template builds the body; json quotes values.
	tmpl := `{"msg":{{json .Summary}},"sev":"{{.Severity}}","group":{{json (index .Labels "group")}},"state":"{{.State}}"}`
	if err := send(t, ChannelWebhook, WebhookConfig{URL: rcv.URL + "/t", Method: "PUT", Template: tmpl}, time.Now()); err != nil {
		t.Fatal(err)
	}
	r = rcv.requests()[1]
	m := decodeBody(t, r)
	if r.Method != "PUT" || m["sev"] != "critical" || m["group"] != "billing" || m["state"] != "FIRING" || !strings.HasPrefix(m["msg"].(string), "Consumer group billing") {
		t.Fatalf("%s %s", r.Method, r.Body)
	}

	// A 4xx answer is a permanent error (not retried); a 5xx is not.
	rcv.reply = ""
	rcv.failNext.Store(1)
	err := send(t, ChannelWebhook, WebhookConfig{URL: rcv.URL}, time.Now())
	if err == nil || isPermanent(err) || !strings.Contains(err.Error(), "500") {
		t.Fatalf("5xx: err = %v", err)
	}
	err = send(t, ChannelWebhook, WebhookConfig{URL: rcv.URL + "/missing", Method: "PATCH", Template: "{{.Nope}}"}, time.Now())
	if err == nil || !isPermanent(err) {
		t.Fatalf("bad template: err = %v", err)
	}
}

func TestChannelValidation(t *testing.T) {
	cases := []struct {
		typ    ChannelType
		config string
		fields []string
	}{
		{ChannelWebhook, `{}`, []string{"config.url"}},
		{ChannelWebhook, `{"url":"ftp://x"}`, []string{"config.url"}},
		{ChannelWebhook, `{"url":"http://x","template":"{{.Nope"}`, []string{"config.template"}},
		{ChannelWebhook, `{"url":"http://x","method":"GET"}`, []string{"config.method"}},
		{ChannelSlack, `{"url":"hooks.slack.com/x"}`, []string{"config.url"}},
		{ChannelDingTalk, `{"url":"https://oapi.dingtalk.com/robot/send?access_token=x","secert":"typo"}`, []string{"config"}},
		{ChannelEmail, `{}`, []string{"config.host", "config.port", "config.from", "config.to"}},
		{ChannelEmail, `{"host":"smtp","port":587,"from":"not an address","to":["a@b.c"],"tls":"ssl"}`, []string{"config.from", "config.tls"}},
		{ChannelEmail, `{"host":"smtp","port":587,"from":"a@b.c","to":["a@b.c"],"password":"x"}`, []string{"config.username"}},
		{"sms", `{}`, []string{"type"}},
	}
	for _, c := range cases {
		err := ValidateConfig(c.typ, json.RawMessage(c.config))
		var ve *ValidationError
		if !asValidation(err, &ve) {
			t.Errorf("%s %s: err = %v, want a validation error", c.typ, c.config, err)
			continue
		}
		var got []string
		for _, p := range ve.Problems {
			got = append(got, p.Field)
		}
		if !reflect.DeepEqual(got, c.fields) {
			t.Errorf("%s %s: fields %v, want %v (%v)", c.typ, c.config, got, c.fields, err)
		}
	}
	for typ, cfg := range map[ChannelType]string{
		ChannelWebhook:  `{"url":"https://example.com/hook","headers":{"Authorization":"Bearer x"}}`,
		ChannelSlack:    `{"url":"https://hooks.slack.com/services/T/B/X"}`,
		ChannelDingTalk: `{"url":"https://oapi.dingtalk.com/robot/send?access_token=x","secret":"SEC"}`,
		ChannelWeCom:    `{"url":"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}`,
		ChannelFeishu:   `{"url":"https://open.feishu.cn/open-apis/bot/v2/hook/t","secret":"s"}`,
		ChannelEmail:    `{"host":"smtp.example.com","port":587,"username":"u","password":"p","from":"Osprey <osprey@example.com>","to":["ops@example.com"]}`,
	} {
		if err := ValidateConfig(typ, json.RawMessage(cfg)); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
}

func asValidation(err error, ve **ValidationError) bool {
	if !IsValidation(err) {
		return false
	}
	for err != nil {
		if v, ok := err.(*ValidationError); ok {
			*ve = v
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

func TestRedact(t *testing.T) {
	cases := []struct {
		typ     ChannelType
		config  string
		secrets []string // must not appear in the redacted config
		kept    []string // must still appear
	}{
		{ChannelWebhook, `{"url":"https://user:pw123@example.com/hook?token=abcdef&x=1","headers":{"Authorization":"Bearer very-secret-token-1234","X-Team":"data"}}`,
			[]string{"pw123", "abcdef", "very-secret-token"}, []string{"example.com", "X-Team", "data", "1234", "x=1"}},
		{ChannelSlack, `{"url":"https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"}`,
			[]string{"T000/B000"}, []string{"hooks.slack.com/services/"}},
		{ChannelDingTalk, `{"url":"https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef0123","secret":"SECabcdefabcdefabcdef0000"}`,
			[]string{"0123456789abcdef", "SECabcdefabcdef"}, []string{"oapi.dingtalk.com/robot/send", "0000"}},
		{ChannelWeCom, `{"url":"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"}`,
			[]string{"693a91f6"}, []string{"qyapi.weixin.qq.com/cgi-bin/webhook/send"}},
		{ChannelFeishu, `{"url":"https://open.feishu.cn/open-apis/bot/v2/hook/5e3d587e-d78e-4a07-bd07-265f269f86fd","secret":"nIMtb7r3N9pkXyXdtAbx6e"}`,
			[]string{"5e3d587e", "nIMtb7r3"}, []string{"open.feishu.cn/open-apis/bot/v2/hook/"}},
		{ChannelEmail, `{"host":"smtp.example.com","port":587,"username":"u","password":"hunter2","from":"a@b.c","to":["x@y.z"]}`,
			[]string{"hunter2"}, []string{"smtp.example.com", "a@b.c"}},
	}
	for _, c := range cases {
		red, err := Redact(c.typ, json.RawMessage(c.config))
		if err != nil {
			t.Fatalf("%s: %v", c.typ, err)
		}
		for _, s := range c.secrets {
			if strings.Contains(string(red), s) {
				t.Errorf("%s: redacted config shows %q: %s", c.typ, s, red)
			}
		}
		for _, s := range c.kept {
			if !strings.Contains(string(red), s) {
				t.Errorf("%s: redacted config lost %q: %s", c.typ, s, red)
			}
		}
		// Sending the redacted config back keeps every stored secret.
		merged, err := mergeConfig(c.typ, json.RawMessage(c.config), red, c.typ)
		if err != nil {
			t.Fatalf("%s: %v", c.typ, err)
		}
		orig, _ := parseConfig(c.typ, json.RawMessage(c.config))
		if !reflect.DeepEqual(merged, orig) {
			t.Errorf("%s: merge of the redacted config\n got %+v\nwant %+v", c.typ, merged, orig)
		}
	}
}
