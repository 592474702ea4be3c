// /api/v1/conversions
import { Hono } from 'hono';

export const conversionRoutes = new Hono<{ Bindings: Env }>();
