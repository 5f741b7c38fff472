package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// maxExpandedNodes bounds the nodes one YAML document may expand to through
// aliases before it counts as an alias bomb (when it also expands to more
// than aliasRatio times its literal size).
const (
	maxExpandedNodes = 100_000
	aliasRatio       = 10
)

// objectID identifies an object the way kustomize does when it looks for
// duplicates: API group, kind, namespace and name.
type objectID struct {
	Group, Kind, Namespace, Name string
}

func (id objectID) String() string {
	gk := id.Kind
	if id.Group != "" {
		gk += "." + id.Group
	}
	if id.Namespace == "" {
		return gk + " " + id.Name
	}
	return gk + " " + id.Namespace + "/" + id.Name
}

func newObjectID(apiVersion, kind, namespace, name string) objectID {
	group, _, found := strings.Cut(apiVersion, "/")
	if !found {
		group = ""
	}
	return objectID{Group: group, Kind: kind, Namespace: namespace, Name: name}
}

// decodeDocs parses data as a stream of YAML documents, refusing malformed
// YAML and alias bombs.
func decodeDocs(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		doc := new(yaml.Node)
		err := dec.Decode(doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidYAML, err)
		}
		if err := checkAliases(doc); err != nil {
			return nil, err
		}
		docs = append(docs, doc)
	}
}

// scanYAML checks data like decodeDocs and returns the identity of each
// document that looks like a Kubernetes object.
func scanYAML(data []byte) ([]objectID, error) {
	docs, err := decodeDocs(data)
	if err != nil {
		return nil, err
	}
	var ids []objectID
	for _, doc := range docs {
		if id, ok := docObjectID(doc); ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// checkAliases refuses a document with a recursive alias (an alias to one
// of its own ancestors, which the decoder accepts but which expands without
// end) or whose alias expansion is far larger than the document itself.
func checkAliases(doc *yaml.Node) error {
	literal := 0
	memo := map[*yaml.Node]int{}
	open := map[*yaml.Node]bool{}
	cyclic := false
	var expanded func(n *yaml.Node) int
	expanded = func(n *yaml.Node) int {
		if n.Kind == yaml.AliasNode {
			if n.Alias == nil {
				return 1
			}
			n = n.Alias
		}
		if size, ok := memo[n]; ok {
			return size
		}
		if open[n] {
			cyclic = true
			return 0
		}
		open[n] = true
		size := 1
		for _, c := range n.Content {
			size += expanded(c)
			if cyclic || size > maxExpandedNodes*aliasRatio {
				break // enough to decide
			}
		}
		delete(open, n)
		memo[n] = size
		return size
	}
	var count func(n *yaml.Node)
	count = func(n *yaml.Node) {
		literal++
		for _, c := range n.Content {
			count(c)
		}
	}
	count(doc)
	size := expanded(doc)
	if cyclic {
		return fmt.Errorf("%w: recursive alias", ErrInvalidYAML)
	}
	if size > maxExpandedNodes && size > aliasRatio*literal {
		return fmt.Errorf("%w: %d nodes expand to more than %d", ErrAliasBomb, literal, min(size, maxExpandedNodes*aliasRatio))
	}
	return nil
}

// docObjectID reads apiVersion, kind, metadata.namespace and metadata.name
// of a document, if it has a kind and a name.
func docObjectID(doc *yaml.Node) (objectID, bool) {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return objectID{}, false
	}
	top := doc.Content[0]
	apiVersion := scalar(top, "apiVersion")
	kind := scalar(top, "kind")
	var namespace, name string
	if meta := field(top, "metadata"); meta != nil && meta.Kind == yaml.MappingNode {
		namespace = scalar(meta, "namespace")
		name = scalar(meta, "name")
	}
	if kind == "" || name == "" {
		return objectID{}, false
	}
	return newObjectID(apiVersion, kind, namespace, name), true
}

func field(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalar(m *yaml.Node, key string) string {
	if n := field(m, key); n != nil && n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}
