package roster

import (
	"fmt"
	"strings"
)

// maxLoopNames is how many employee numbers a loop's message lists before it
// just gives the count; a loop can be as long as the file.
const maxLoopNames = 12

// links runs the checks that need the whole file: duplicate employee numbers
// and e-mail addresses, unknown managers, self-managers and manager loops.
func (p *parser) links() {
	byNumber := make(map[string]int, len(p.rows))
	byEmail := make(map[string]int, len(p.rows))
	for i := range p.rows {
		r := &p.rows[i]
		if n := r.EmployeeNumber; n != "" {
			if j, ok := byNumber[n]; ok {
				p.problem(i, colEmployeeNumber, fmt.Sprintf("The employee number %s is also on line %d.", show(n), p.rows[j].Line))
			} else {
				byNumber[n] = i
			}
		}
		if r.Email != "" {
			key := strings.ToLower(r.Email)
			if j, ok := byEmail[key]; ok {
				p.problem(i, colEmail, fmt.Sprintf("The e-mail address %s is also on line %d.", show(r.Email), p.rows[j].Line))
			} else {
				byEmail[key] = i
			}
		}
	}

	// up[i] is where rows[i]'s manager link leads: the index of the
	// manager's row, inPortal for someone only in the portal, or none.
	up := make([]int, len(p.rows))
	for i := range p.rows {
		r := &p.rows[i]
		m := r.ManagerNumber
		j, inFile := byNumber[m]
		_, known := p.existing[m]
		switch {
		case m == "":
			up[i] = none
		case m == r.EmployeeNumber:
			up[i] = none
			p.problem(i, colManager, fmt.Sprintf("%s is listed as their own manager.", show(m)))
		case inFile:
			up[i] = j
		case known:
			up[i] = inPortal
		default:
			up[i] = none
			p.problem(i, colManager, fmt.Sprintf("The manager %s is neither in this file nor an active employee.", show(m)))
		}
	}
	p.loops(byNumber, up)
}

// Where a manager link leads when it does not lead to a row of the file.
const (
	none     = -1
	inPortal = -2
)

// loops reports every manager loop that has someone from the file in it,
// once, on the line of the member that comes first in the file. It follows
// manager links without recursion, visiting each employee once, so it is
// linear and a chain as long as the file cannot overflow the stack. People
// in the file are tracked by row index; the portal's, reached when a chain
// leaves the file, by employee number.
func (p *parser) loops(byNumber map[string]int, up []int) {
	const done = -1
	rowState := make([]int, len(p.rows)) // 0: unvisited; done; k > 0: at path[k-1]
	portalState := make(map[string]int)  // the same, for people only in the portal
	var path []string
	var where []int // each path entry's row index, or inPortal
	for i := range p.rows {
		if n := p.rows[i].EmployeeNumber; n == "" || byNumber[n] != i || rowState[i] != 0 {
			continue
		}
		path, where = path[:0], where[:0]
		cur, name := i, p.rows[i].EmployeeNumber
		for {
			var s int
			if cur >= 0 {
				s = rowState[cur]
			} else {
				s = portalState[name]
			}
			if s > 0 {
				p.loop(path[s-1:], byNumber)
			}
			if s != 0 {
				break
			}
			path, where = append(path, name), append(where, cur)
			if cur >= 0 {
				rowState[cur] = len(path)
			} else {
				portalState[name] = len(path)
			}
			if cur, name = p.next(cur, name, up, byNumber); name == "" {
				break
			}
		}
		for k, n := range path {
			if where[k] >= 0 {
				rowState[where[k]] = done
			} else {
				portalState[n] = done
			}
		}
	}
}

// next follows one manager link from row cur (or, if cur is inPortal, from
// the portal's employee name). A row in the file replaces the portal's link.
// It returns name "" at the top of a chain.
func (p *parser) next(cur int, name string, up []int, byNumber map[string]int) (int, string) {
	if cur >= 0 {
		switch up[cur] {
		case none:
			return none, ""
		case inPortal:
			return inPortal, p.rows[cur].ManagerNumber
		default:
			return up[cur], p.rows[up[cur]].EmployeeNumber
		}
	}
	m := p.existing[name]
	if j, ok := byNumber[m]; ok && m != "" {
		return j, m
	}
	return inPortal, m
}

// loop reports one loop, given in manager order (each reports to the next).
// A loop made only of people already in the portal is not the file's doing
// and is left alone.
func (p *parser) loop(members []string, byNumber map[string]int) {
	first := -1
	for k, n := range members {
		if i, ok := byNumber[n]; ok && (first < 0 || i < byNumber[members[first]]) {
			first = k
		}
	}
	if first < 0 {
		return
	}
	ordered := make([]string, 0, len(members)+1)
	ordered = append(ordered, members[first:]...)
	ordered = append(ordered, members[:first]...)
	var b strings.Builder
	for k, n := range ordered {
		if k == maxLoopNames {
			fmt.Fprintf(&b, " → … (%d people in all)", len(ordered))
			break
		}
		if k > 0 {
			b.WriteString(" → ")
		}
		b.WriteString(n)
	}
	if len(ordered) <= maxLoopNames {
		b.WriteString(" → " + ordered[0])
	}
	p.problem(byNumber[ordered[0]], colManager, fmt.Sprintf("Manager loop: %s (each reports to the next). Someone in it must report to a person outside it.", b.String()))
}
