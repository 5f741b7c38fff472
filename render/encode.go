package render

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	yamlv2 "go.yaml.in/yaml/v2"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// encodeObject returns res.AsYAML(), the bytes `kustomize build` prints
// for the object, with less repeated work. AsYAML encodes the object's
// node as YAML, decodes that into Go values, encodes those as JSON, decodes
// the JSON with YAML v2 (to pick int, uint64 or float64 for each number)
// and encodes the result with YAML v2. encodeObject decodes a plain node
// (plainNode: what nearly every object is) straight into Go values,
// skipping the YAML encoding and its parse, and skips the JSON encoding
// and its decoding for every node: it maps the decoded values straight to
// those YAML v2 would read back from the JSON (jsonShaped). Values whose
// JSON round trip is not the identity, or that make either step fail,
// take AsYAML itself, so the bytes and the errors are AsYAML's.
func encodeObject(res *resource.Resource) ([]byte, error) {
	if n := res.YNode(); n != nil && n.Kind == yaml.MappingNode {
		m := map[string]interface{}{}
		var err error
		if plainNode(n, 0) {
			err = n.Decode(&m)
		} else {
			var s string
			if s, err = res.RNode.String(); err == nil {
				err = yaml.Unmarshal([]byte(s), &m)
			}
		}
		if err == nil {
			if v, ok := jsonShaped(m, 0); ok {
				return yamlv2.Marshal(v)
			}
		}
	}
	return res.AsYAML()
}

// plainNode reports whether decoding node n directly gives the values
// that encoding it and decoding the text give (AsYAML's first two
// steps): no aliases or merge keys, every mapping key a plain string
// scalar, every scalar of a core tag. Other nodes (a null or complex key,
// a custom tag) take the round trip.
func plainNode(n *yaml.Node, depth int) bool {
	if depth > maxShapedDepth {
		return false
	}
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Tag {
		case yaml.NodeTagString, yaml.NodeTagInt, yaml.NodeTagFloat, yaml.NodeTagBool:
			return true
		case "": // set by a transformer
			return plainWord(n.Value)
		case yaml.NodeTagNull:
			// An empty null (`{a}`, `a:`) is written back as "".
			return n.Value == "null" || n.Value == "~"
		}
		return false
	case yaml.MappingNode:
		if len(n.Content)%2 != 0 {
			return false
		}
		for i := 0; i < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Value == "<<" || (k.Tag != yaml.NodeTagString && (k.Tag != "" || !plainWord(k.Value))) {
				return false
			}
			if !plainNode(n.Content[i+1], depth+1) {
				return false
			}
		}
		return true
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if !plainNode(c, depth+1) {
				return false
			}
		}
		return true
	}
	return false // aliases, documents
}

// plainWord reports whether an untagged scalar s is a string however it
// is read: a letter or '_' then letters, digits, '_', '-', '.' and '/',
// and no word YAML 1.1 or 1.2 reads as a bool or null.
func plainWord(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_':
		case i > 0 && (r >= '0' && r <= '9' || r == '-' || r == '.' || r == '/'):
		default:
			return false
		}
	}
	switch strings.ToLower(s) {
	case "y", "n", "yes", "no", "on", "off", "true", "false", "null":
		return false
	}
	return true
}

// maxShapedDepth bounds the nesting jsonShaped handles; deeper values take
// AsYAML, whose decoders have depth limits of their own.
const maxShapedDepth = 100

// jsonShaped returns the value YAML v2 decodes from the JSON encoding of
// v (a value decoded by YAML v3 into interface{}), and false when it
// cannot tell exactly: a type JSON does not encode as such, a string JSON
// would change or YAML v2 would refuse or fold, NaN or infinity, or
// nesting deeper than maxShapedDepth.
func jsonShaped(v interface{}, depth int) (interface{}, bool) {
	if depth > maxShapedDepth {
		return nil, false
	}
	switch v := v.(type) {
	case nil, bool:
		return v, true
	case string:
		return v, jsonSafeString(v)
	case int:
		return v, true
	case int64:
		return shapedInt(v), true
	case uint64:
		if v <= math.MaxInt64 {
			return shapedInt(int64(v)), true
		}
		return v, true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, false
		}
		j, err := json.Marshal(v)
		if err != nil {
			return nil, false
		}
		return shapedNumber(string(j))
	case map[string]interface{}:
		if v == nil {
			return nil, true
		}
		out := make(map[interface{}]interface{}, len(v))
		for k, e := range v {
			if !jsonSafeString(k) {
				return nil, false
			}
			s, ok := jsonShaped(e, depth+1)
			if !ok {
				return nil, false
			}
			out[k] = s
		}
		return out, true
	case []interface{}:
		if v == nil {
			return nil, true
		}
		out := make([]interface{}, len(v))
		for i, e := range v {
			s, ok := jsonShaped(e, depth+1)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// shapedInt is the value YAML v2 resolves an integer to: int when it
// fits, else int64.
func shapedInt(i int64) interface{} {
	if i == int64(int(i)) {
		return int(i)
	}
	return i
}

// shapedNumber resolves a JSON number as YAML v2 resolves a plain scalar
// of digits: an int, else a uint64, else a float64.
func shapedNumber(s string) (interface{}, bool) {
	if i, err := strconv.ParseInt(s, 0, 64); err == nil {
		return shapedInt(i), true
	}
	if u, err := strconv.ParseUint(s, 0, 64); err == nil {
		return u, true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f, true
	}
	return nil, false
}

// jsonSafeString reports whether YAML v2 reads s back unchanged from
// its JSON encoding: valid UTF-8 (JSON replaces invalid bytes), and every
// character JSON leaves unescaped one that YAML v2 reads as itself in a
// double-quoted scalar (not DEL, a C1 control, NEL — a line break to
// YAML —, the byte order mark or a non-character). JSON escapes the
// ASCII controls, U+2028 and U+2029, and YAML v2 decodes the escapes.
func jsonSafeString(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return false
		case r < 0xa0, r >= 0xd800 && r < 0xe000, r == 0xfeff, r == 0xfffe, r == 0xffff:
			return false
		}
		i += size
	}
	return true
}
