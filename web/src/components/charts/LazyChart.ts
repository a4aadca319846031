// The way pages show a chart: <LazyChart :option="..." />. ECharts (several hundred KiB) is
// fetched the first time a chart is rendered, with a skeleton meanwhile and an error message
// if the chunk cannot be loaded.
import { defineAsyncComponent } from 'vue'
import ChartError from './ChartError.vue'
import ChartLoading from './ChartLoading.vue'

export type { ChartOption } from './echarts'

export const LazyChart = defineAsyncComponent({
  loader: () => import('./EChart.vue'),
  loadingComponent: ChartLoading,
  errorComponent: ChartError,
  delay: 0,
  timeout: 30_000,
})
