-- Money in the conversion rollups stays exact (issue 22). A money cell is an SQLite integer; an
-- addition that passes 2^63 - 1 would silently turn it into a float (SQLite converts an
-- overflowing integer sum to REAL), and every report reading it would be wrong. Such a write is
-- refused instead: the batch that carries it (a conversion, a status change, an adjustment)
-- aborts with money_overflow and writes nothing. One conversion's money is at most 2^53 - 1
-- minor units (parseAmount), so only about a thousand conversions of that size in one day (or
-- quarter hour) of one offer, publisher and currency could reach it.
CREATE TRIGGER daily_conversion_stats_exact BEFORE UPDATE ON daily_conversion_stats
WHEN typeof(NEW.revenue_pending) <> 'integer' OR typeof(NEW.revenue_approved) <> 'integer'
  OR typeof(NEW.payout_pending) <> 'integer' OR typeof(NEW.payout_approved) <> 'integer'
BEGIN
  SELECT RAISE(ABORT, 'money_overflow: a conversion rollup cell would pass 2^63 - 1 minor units');
END;

CREATE TRIGGER quarter_conversion_stats_exact BEFORE UPDATE ON quarter_conversion_stats
WHEN typeof(NEW.revenue_pending) <> 'integer' OR typeof(NEW.revenue_approved) <> 'integer'
  OR typeof(NEW.payout_pending) <> 'integer' OR typeof(NEW.payout_approved) <> 'integer'
BEGIN
  SELECT RAISE(ABORT, 'money_overflow: a conversion rollup cell would pass 2^63 - 1 minor units');
END;
