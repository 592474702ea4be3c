// The conversion domain: statuses and their lifecycle, sale pricing and payout rules,
// deduplication keys, event snapshots, and the one-transaction write path. Shared by advertiser
// postbacks (src/postback/), the admin API and, later, the partner portal.
export { clickKey, dedupeKey, isRepeatKey, orderKey } from './dedup';
export {
  allowedNext,
  canChangeStatus,
  creationEventTypes,
  illegalStatusChange,
  statsContribution,
  statsMove,
  statusEventType,
} from './lifecycle';
export { buildConversion, checkInitialStatus, type NewConversion } from './new-conversion';
export { type GoalRules, type Price, type PricedLine, priceConversion, selectRules, usesPercent } from './pricing';
export {
  afterCommit,
  applyStatusChange,
  type Committed,
  changeConversionStatus,
  insertConversion,
  loadSnapshotContext,
  type StatusChangeResult,
  type WriteCondition,
} from './record';
export { type ProductInput, priceSale, type Sale, type SaleInput, type SaleTerms } from './sale';
export { buildEvent, buildSnapshot, type ConversionSnapshot, type ProductLine, type SnapshotContext } from './snapshot';
export {
  CONVERSION_EVENT_TYPES,
  CONVERSION_STATUSES,
  type ConversionActor,
  type ConversionEventType,
  type ConversionStatus,
  INITIAL_STATUSES,
} from './status';
