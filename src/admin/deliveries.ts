// /api/v1/deliveries
import { Hono } from 'hono';

export const deliveryRoutes = new Hono<{ Bindings: Env }>();
