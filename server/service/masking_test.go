package service

import (
	"testing"

	"github.com/osprey-kafka/osprey/admin"
)

func TestMaskingRuleApply(t *testing.T) {
	const doc = `{"id": 9007199254740993, "items": [{"card": "1111", "qty": 2}, {"card": "2222", "qty": 1}], "user": {"email": "a@b.c"}}`
	for _, c := range []struct {
		in   MaskingRuleInput
		want string
	}{
		{MaskingRuleInput{JSONPath: "$.items[*].card", Action: MaskActionMask},
			`{"id":9007199254740993,"items":[{"card":"****","qty":2},{"card":"****","qty":1}],"user":{"email":"a@b.c"}}`},
		{MaskingRuleInput{JSONPath: "items[1].card", Action: MaskActionDrop},
			`{"id":9007199254740993,"items":[{"card":"1111","qty":2},{"qty":1}],"user":{"email":"a@b.c"}}`},
		{MaskingRuleInput{JSONPath: "$.*.email", Action: MaskActionHash},
			`{"id":9007199254740993,"items":[{"card":"1111","qty":2},{"card":"2222","qty":1}],"user":{"email":"` + hashHex([]byte("a@b.c")) + `"}}`},
		{MaskingRuleInput{JSONPath: "$.missing.field", Action: MaskActionMask}, doc},
		{MaskingRuleInput{Regex: `[0-9]{4}"`, Action: MaskActionMask},
			`{"id": 9007199254740993, "items": [{"card": "****, "qty": 2}, {"card": "****, "qty": 1}], "user": {"email": "a@b.c"}}`},
	} {
		c.in.Name, c.in.TopicPattern = "r", "*"
		r, err := compileRule(c.in)
		if err != nil {
			t.Fatalf("%+v: %v", c.in, err)
		}
		in := admin.Message{Value: []byte(doc)}
		got, keep := r.apply(in)
		if !keep || string(got.Value) != c.want {
			t.Errorf("%+v:\n got %s (keep %v)\nwant %s", c.in, got.Value, keep, c.want)
		}
		if string(in.Value) != doc {
			t.Errorf("%+v changed the fetched record in place", c.in)
		}
	}
	r, _ := compileRule(MaskingRuleInput{Name: "r", TopicPattern: "*", Regex: "secret", Action: MaskActionDrop})
	if _, keep := r.apply(admin.Message{Value: []byte("x"), Headers: []admin.MessageHeader{{Key: "h", Value: []byte("a secret")}}}); keep {
		t.Error("a record whose header matches a drop rule was kept")
	}
}
