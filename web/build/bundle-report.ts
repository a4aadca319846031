// A Vite plugin that reports what the browser must download before the first page renders
// (the entry chunk plus everything it imports statically) and fails the build when that
// initial JavaScript exceeds its gzip budget or pulls in a module that must stay lazy
// (ECharts is only ever loaded on demand).
import { gzipSync } from 'node:zlib'
import type { Plugin, ResolvedConfig } from 'vite'

export interface BundleReportOptions {
  /** Maximum gzip size of the initial JavaScript, in KiB. */
  budgetKiB: number
  /** Module id fragments that must never appear in an initial chunk. */
  lazyOnly: string[]
}

interface Asset {
  fileName: string
  raw: number
  gzip: number
  initial: boolean
}

const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`

export function bundleReport(opts: BundleReportOptions): Plugin {
  let config: ResolvedConfig
  return {
    name: 'osprey-bundle-report',
    apply: 'build',
    configResolved(c) {
      config = c
    },
    generateBundle(_output, bundle) {
      // Walk the static import graph from every entry chunk: those files load before first render.
      const initial = new Set<string>()
      const initialCss = new Set<string>()
      const visit = (fileName: string): void => {
        if (initial.has(fileName)) return
        const item = bundle[fileName]
        if (!item || item.type !== 'chunk') return
        initial.add(fileName)
        item.viteMetadata?.importedCss.forEach((css) => initialCss.add(css))
        item.imports.forEach(visit)
      }
      for (const item of Object.values(bundle)) {
        if (item.type === 'chunk' && item.isEntry) visit(item.fileName)
      }

      const assets: Asset[] = []
      const offenders: string[] = []
      for (const item of Object.values(bundle)) {
        const isJs = item.type === 'chunk'
        const isCss = item.type === 'asset' && item.fileName.endsWith('.css')
        if (!isJs && !isCss) continue
        const source = item.type === 'chunk' ? item.code : item.source
        const buf = typeof source === 'string' ? Buffer.from(source) : Buffer.from(source)
        const isInitial = isJs ? initial.has(item.fileName) : initialCss.has(item.fileName)
        assets.push({ fileName: item.fileName, raw: buf.length, gzip: gzipSync(buf, { level: 9 }).length, initial: isInitial })
        if (item.type === 'chunk' && isInitial) {
          for (const id of item.moduleIds) {
            const bad = opts.lazyOnly.find((frag) => id.includes(frag))
            if (bad) offenders.push(`${item.fileName} contains ${bad} (${id})`)
          }
        }
      }

      const sum = (xs: Asset[], k: 'raw' | 'gzip'): number => xs.reduce((a, x) => a + x[k], 0)
      const js = assets.filter((a) => a.fileName.endsWith('.js'))
      const css = assets.filter((a) => a.fileName.endsWith('.css'))
      const initialJs = js.filter((a) => a.initial)
      const lazyJs = js.filter((a) => !a.initial)
      const initialCssAssets = css.filter((a) => a.initial)
      const lines = [
        '',
        'Bundle report (gzip -9):',
        ...[...assets]
          .sort((a, b) => Number(b.initial) - Number(a.initial) || b.gzip - a.gzip)
          .map((a) => `  ${a.initial ? 'initial' : 'lazy   '}  ${kib(a.gzip).padStart(10)}  ${kib(a.raw).padStart(10)} raw  ${a.fileName}`),
        `  initial JS:  ${kib(sum(initialJs, 'gzip'))} gzip (${kib(sum(initialJs, 'raw'))} raw) in ${initialJs.length} file(s); budget ${opts.budgetKiB} KiB`,
        `  initial CSS: ${kib(sum(initialCssAssets, 'gzip'))} gzip`,
        `  lazy JS:     ${kib(sum(lazyJs, 'gzip'))} gzip in ${lazyJs.length} file(s)`,
        '',
      ]
      config.logger.info(lines.join('\n'))

      if (offenders.length > 0) {
        this.error(`modules that must load lazily are in the initial bundle:\n  ${offenders.join('\n  ')}`)
      }
      const initialGzip = sum(initialJs, 'gzip')
      if (initialGzip > opts.budgetKiB * 1024) {
        this.error(`initial JavaScript is ${kib(initialGzip)} gzip, over the ${opts.budgetKiB} KiB budget`)
      }
    },
  }
}
