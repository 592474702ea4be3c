// /api/v1/endpoints
import { Hono } from 'hono';

export const endpointRoutes = new Hono<{ Bindings: Env }>();
