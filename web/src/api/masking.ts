// Masking rules (admin): what the server hides of records before they leave it.
import { api, type RequestOptions } from './client'
import type { components } from './schema'
import { typedCalls } from './typed'

export type MaskingRule = components['schemas']['MaskingRule']
export type MaskingRuleInput = components['schemas']['MaskingRuleInput']

const call = typedCalls(api)

export const masking = {
  list: (o?: RequestOptions) => call.get('/api/v1/masking/rules', {}, undefined, o),
  create: (r: MaskingRuleInput) => call.post('/api/v1/masking/rules', {}, r),
  update: (id: number, r: MaskingRuleInput) => call.put('/api/v1/masking/rules/{id}', { id }, r),
  remove: (id: number) => call.del('/api/v1/masking/rules/{id}', { id }),
}
