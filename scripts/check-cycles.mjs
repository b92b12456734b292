#!/usr/bin/env node
// Import-cycle check, run by `npm test`. A reader follows `import type` as well as value imports, so both
// count. Two levels are checked: files (src/, test/, bench/) and the top-level folders of src/ (a file
// directly in src/ is its own node). Any strongly connected component with more than one member, or a
// file importing itself, is a cycle; the script prints each and exits 1. Uses the TypeScript compiler's
// own import scanner (ts.preProcessFile), so multi-line and type-only imports are seen as tsc sees them.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['src', 'test', 'bench']

function listTs(dir) {
  const out = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...listTs(path))
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path)
  }
  return out
}

const files = roots.flatMap((r) => listTs(join(root, r)))
const known = new Set(files)
const edges = new Map()
for (const file of files) {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
  const targets = new Set()
  for (const { fileName } of info.importedFiles) {
    if (!fileName.startsWith('.')) continue
    const target = resolve(dirname(file), fileName.replace(/\.js$/, '.ts'))
    if (known.has(target)) targets.add(target)
  }
  edges.set(file, targets)
}

// Tarjan's strongly connected components, iterative so deep graphs cannot overflow the stack.
function components(nodes, next) {
  let index = 0
  const idx = new Map(), low = new Map(), onStack = new Set(), stack = [], result = []
  for (const start of nodes) {
    if (idx.has(start)) continue
    const work = [[start, [...next(start)], 0]]
    idx.set(start, index); low.set(start, index); index++; stack.push(start); onStack.add(start)
    while (work.length > 0) {
      const frame = work[work.length - 1]
      const [node, succ] = frame
      if (frame[2] < succ.length) {
        const w = succ[frame[2]++]
        if (!idx.has(w)) {
          idx.set(w, index); low.set(w, index); index++; stack.push(w); onStack.add(w)
          work.push([w, [...next(w)], 0])
        } else if (onStack.has(w)) low.set(node, Math.min(low.get(node), idx.get(w)))
        continue
      }
      work.pop()
      if (work.length > 0) {
        const parent = work[work.length - 1][0]
        low.set(parent, Math.min(low.get(parent), low.get(node)))
      }
      if (low.get(node) === idx.get(node)) {
        const scc = []
        let w
        do { w = stack.pop(); onStack.delete(w); scc.push(w) } while (w !== node)
        if (scc.length > 1 || next(node).has(node)) result.push(scc.sort())
      }
    }
  }
  return result
}

const rel = (f) => relative(root, f)
const fileCycles = components(files, (f) => edges.get(f))

const folderOf = (f) => {
  const parts = relative(join(root, 'src'), f).split('/')
  return parts.length > 1 ? `src/${parts[0]}/` : `src/${parts[0]}`
}
const folderEdges = new Map()
for (const [file, targets] of edges) {
  if (!rel(file).startsWith('src/')) continue
  const from = folderOf(file)
  if (!folderEdges.has(from)) folderEdges.set(from, new Set())
  for (const t of targets) {
    const to = folderOf(t)
    if (to !== from) folderEdges.get(from).add(to)
  }
}
const folderCycles = components([...folderEdges.keys()], (f) => folderEdges.get(f) ?? new Set())

for (const scc of folderCycles) console.log(`folder cycle (${scc.length}): ${scc.join(' ')}`)
for (const scc of fileCycles) console.log(`file cycle (${scc.length}): ${scc.map(rel).join(' ')}`)
const filesInCycles = fileCycles.reduce((n, c) => n + c.length, 0)
console.log(`import cycles: ${folderCycles.length} between folders of src/, ${fileCycles.length} between files ` +
  `(${filesInCycles} files); ${files.length} files checked in ${roots.join(', ')}`)
process.exit(folderCycles.length + fileCycles.length === 0 ? 0 : 1)
