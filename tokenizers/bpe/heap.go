package bpe

// heap is a binary heap ordered by before: the root is the element that
// comes before all others.
type heap[T any] struct {
	s      []T
	before func(a, b T) bool
}

func (h *heap[T]) len() int { return len(h.s) }

func (h *heap[T]) push(x T) {
	h.s = append(h.s, x)
	for i := len(h.s) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.before(h.s[i], h.s[p]) {
			break
		}
		h.s[i], h.s[p] = h.s[p], h.s[i]
		i = p
	}
}

func (h *heap[T]) pop() T {
	top := h.s[0]
	last := len(h.s) - 1
	h.s[0] = h.s[last]
	h.s = h.s[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h.s) && h.before(h.s[l], h.s[m]) {
			m = l
		}
		if r < len(h.s) && h.before(h.s[r], h.s[m]) {
			m = r
		}
		if m == i {
			break
		}
		h.s[i], h.s[m] = h.s[m], h.s[i]
		i = m
	}
	return top
}
