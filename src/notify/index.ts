// Publisher notifications: endpoint URL templates and macros, payload formats, Standard Webhooks
// signing, the delivery consumer, reconciliation and the dev-only demo receiver.
export { type ConsumerOptions, consumeNotifications, NOTIFICATIONS_QUEUE_NAME } from './consumer';
export { checkDestination } from './destination';
export { devReceiverRoutes } from './dev-receiver';
export { deliveryStatements, enqueueDeliveries, type NotificationMessage, sendDeliveryMessages } from './fanout';
export { reconcileDeliveries } from './reconcile';
