// The body of an offset reset request from the dialog's form: only the field the strategy uses.
import type { OffsetResetRequest, ResetStrategy } from '@/api/types'

export interface ResetForm {
  topic: string
  strategy: ResetStrategy
  offset: number
  timestamp: Date | null
  shift: number
}

export function buildResetRequest(f: ResetForm, dryRun: boolean): OffsetResetRequest {
  const req: OffsetResetRequest = { strategy: f.strategy, dryRun }
  // '*' (or empty) means every topic of the group.
  if (f.topic && f.topic !== '*') req.topic = f.topic
  if (f.strategy === 'offset') req.offset = f.offset
  if (f.strategy === 'timestamp' && f.timestamp) req.timestamp = f.timestamp.getTime()
  if (f.strategy === 'shift') req.shift = f.shift
  return req
}
