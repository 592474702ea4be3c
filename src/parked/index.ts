// Dead ends of the queues, parked in D1 for the operator: the dead-letter queues' consumer, the
// poison-message filter of the main queues, the retry, and the dashboard's summary.
export { consumeDeadLetters, parkPoison } from './park';
export { CLICKS_QUEUE, DEAD_LETTER_SOURCES, NOTIFICATIONS_QUEUE } from './queues';
export { type RetryResult, retryParked } from './retry';
