package bpe

// candidate is a mergeable adjacent pair at position pos of a word.
type candidate struct {
	rank, pos   int32
	left, right int32 // the ids the pair had when pushed
}

// candBefore orders candidates by rank, then position.
func candBefore(a, b candidate) bool {
	return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos)
}

// applyMerges merges adjacent symbols lowest rank first (leftmost first
// among equal ranks), as Hugging Face's BPE model does.
func (t *Tokenizer) applyMerges(syms []int32) []int32 {
	switch {
	case len(syms) < 2 || len(t.ranks) == 0:
		return syms
	case len(syms) <= shortWord:
		return t.mergeShort(syms)
	}
	return t.mergeHeap(syms)
}

// shortWord is the longest word merged by mergeShort.
const shortWord = 32

// noMerge marks a pair without a merge rule.
var noMerge = merge{rank: -1}

func (t *Tokenizer) lookup(l, r int32) merge {
	if m, ok := t.ranks[pair{l, r}.key()]; ok {
		return m
	}
	return noMerge
}

// mergeShort keeps the rank of every adjacent pair in an array and merges
// the best one until none is left: O(n²) but allocation-free, faster than
// the heap for the short words that dominate text.
func (t *Tokenizer) mergeShort(syms []int32) []int32 {
	var ranks [shortWord]merge // ranks[i] is the pair (syms[i], syms[i+1])
	n := len(syms)
	for i := 0; i+1 < n; i++ {
		ranks[i] = t.lookup(syms[i], syms[i+1])
	}
	for n > 1 {
		at := -1
		for i := 0; i+1 < n; i++ {
			if ranks[i].rank >= 0 && (at < 0 || ranks[i].rank < ranks[at].rank) {
				at = i
			}
		}
		if at < 0 {
			break
		}
		syms[at] = ranks[at].id
		copy(syms[at+1:n-1], syms[at+2:n])
		if at+2 < n {
			copy(ranks[at+1:], ranks[at+2:n-1]) // pairs right of the merge shift left
		}
		n--
		if at > 0 {
			ranks[at-1] = t.lookup(syms[at-1], syms[at])
		}
		if at+1 < n {
			ranks[at] = t.lookup(syms[at], syms[at+1])
		}
	}
	return syms[:n]
}

// mergeHeap does what mergeShort does in O(n log n), for long words (long
// runs of punctuation or spaces, or arbitrary bytes). Dead symbols are
// marked -1; next links skip them.
func (t *Tokenizer) mergeHeap(syms []int32) []int32 {
	n := int32(len(syms))
	next := make([]int32, n)
	prev := make([]int32, n)
	h := &heap[candidate]{s: make([]candidate, 0, n), before: candBefore}
	for i := int32(0); i < n; i++ {
		prev[i], next[i] = i-1, i+1
	}
	for i := int32(0); i+1 < n; i++ {
		t.pushPair(h, syms, i, i+1)
	}
	for h.len() > 0 {
		c := h.pop()
		r := next[c.pos]
		if syms[c.pos] != c.left || r >= n || syms[r] != c.right {
			continue // stale: a neighbour merged since the push
		}
		syms[c.pos] = t.ranks[pair{c.left, c.right}.key()].id
		syms[r] = -1
		next[c.pos] = next[r]
		if next[r] < n {
			prev[next[r]] = c.pos
		}
		if p := prev[c.pos]; p >= 0 {
			t.pushPair(h, syms, p, c.pos)
		}
		if next[c.pos] < n {
			t.pushPair(h, syms, c.pos, next[c.pos])
		}
	}
	out := make([]int32, 0, n)
	for i := int32(0); i < n; i = next[i] {
		out = append(out, syms[i])
	}
	return out
}

// pushPair pushes the pair at (i, j) if a merge rule covers it.
func (t *Tokenizer) pushPair(h *heap[candidate], syms []int32, i, j int32) {
	p := pair{syms[i], syms[j]}
	if m, ok := t.ranks[p.key()]; ok {
		h.push(candidate{rank: m.rank, pos: i, left: p.left, right: p.right})
	}
}
