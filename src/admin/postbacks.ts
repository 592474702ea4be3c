// /api/v1/postbacks
import { Hono } from 'hono';

export const postbackLogRoutes = new Hono<{ Bindings: Env }>();
