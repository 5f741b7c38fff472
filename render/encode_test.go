package render

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resource"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// encodeCases are objects whose values take every branch of jsonShaped
// and of its fallback to AsYAML.
var encodeCases = []string{
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  b: \"1\"\n  c: x\n",
	"a: 1\nb: -0\nc: 1.0\nd: 1.5\ne: 1e21\nf: 1e20\ng: 1e19\nh: 9223372036854775807\ni: 9223372036854775808\nj: 18446744073709551615\nk: 18446744073709551616\nl: 0.000001\nm: -0.0\nn: 0x1F\no: 0o17\np: 1_000\n",
	"a: .inf\n", "a: -.inf\n", "a: .nan\n",
	"a: true\nb: false\nc: null\nd: ~\ne: yes\nf: on\ng: \"\"\nh: []\ni: {}\nj: [1, [2, {k: v}]]\n",
	"a: 2001-12-14\nb: !!timestamp 2001-12-14\nc: !!str 12\nd: !!binary aGVsbG8=\ne: !!binary gA==\nf: !!float 1\n",
	"a: \"\\x7f\"\n", "a: \"\\x85\"\n", "a: \"\\x80\"\n", "a: \"\\u2028\\u2029\"\n", "a: \"\\uFEFF\"\n", "a: \"\\0\\a\\b\\t\\n\\v\\f\\r\\e\"\n",
	"a: \"<>&\\\"\\\\/é日本𝄞\"\n", "\"\\x85\": a\n", "\"k\\x7f\": a\n", "\"1\": a\n2: b\n",
	"a: &x {b: [1, 2]}\nc: *x\nd:\n  <<: *x\n  e: 3\n",
	"a: |\n  line one\n  line two\nb: >\n  folded\n  text\n",
	"a: 'single ''quoted'''\nb: \"  spaces  \"\nc: \"#not a comment\"\nd: \"- dash\"\ne: \": colon\"\n",
}

// TestEncodeObject checks that encodeObject gives AsYAML's bytes, or its
// error.
func TestEncodeObject(t *testing.T) {
	for _, c := range encodeCases {
		assert.Positive(t, checkEncodeObject(t, c), "%q builds no object", c)
	}
	deep := "a: " + strings.Repeat("[", maxShapedDepth+5) + strings.Repeat("]", maxShapedDepth+5) + "\n"
	assert.Positive(t, checkEncodeObject(t, deep))
}

func FuzzEncodeObject(f *testing.F) {
	for _, c := range encodeCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, y string) {
		checkEncodeObject(t, y)
	})
}

// checkEncodeObject compares encodeObject with AsYAML on the objects of
// y, and on y's fields under the fields an object needs. It returns the
// number of objects compared.
func checkEncodeObject(t *testing.T, y string) int {
	t.Helper()
	if len(y) > 1<<12 {
		return 0
	}
	n := 0
	for _, doc := range []string{y, "apiVersion: v1\nkind: K\nmetadata:\n  name: n\n" + y} {
		resources, err := provider.NewDefaultDepProvider().GetResourceFactory().SliceFromBytes([]byte(doc))
		if err != nil {
			continue
		}
		n += compareEncodings(t, doc, resources)
	}
	return n
}

func compareEncodings(t *testing.T, y string, resources []*resource.Resource) int {
	t.Helper()
	var untagged []*resource.Resource
	for _, res := range resources {
		// Transformers add nodes without tags (e.g. the namespace key);
		// the same object with every scalar's tag cleared stands for them.
		c := res.DeepCopy()
		clearTags(c.YNode())
		untagged = append(untagged, c)
	}
	for _, res := range append(resources, untagged...) {
		want, wantErr := res.AsYAML()
		got, gotErr := encodeObject(res)
		if wantErr != nil {
			assert.Error(t, gotErr, "%q", y)
			continue
		}
		require.NoError(t, gotErr, "%q", y)
		assert.Equal(t, string(want), string(got), "%q", y)
	}
	return len(resources)
}

// clearTags clears the tag of every scalar under n.
func clearTags(n *kyaml.Node) {
	if n == nil {
		return
	}
	if n.Kind == kyaml.ScalarNode {
		n.Tag = ""
	}
	for _, c := range n.Content {
		clearTags(c)
	}
}
