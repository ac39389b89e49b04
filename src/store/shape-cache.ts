/**
 * Prepared statements for queries whose shape depends on which columns a call passes (an insert of
 * a row with optional fields, an update with a patch). Building a drizzle query and compiling its
 * SQL costs far more than running it, and the hot path runs the same few shapes over and over, so
 * each shape (the list of keys whose value is not undefined, in call order) is built and prepared
 * once. Values go in as drizzle placeholders, which drizzle encodes through the column exactly as
 * it encodes inline values (booleans, JSON). A call with a raw SQL value (`sql\`x + 1\``) is
 * refused: the caller keeps its unprepared builder for that.
 */
import { SQL } from 'drizzle-orm';

export class ShapeCache<S> {
  private readonly cache = new Map<string, S>();

  constructor(
    /** Build and prepare the statement for these keys (each bound as `sql.placeholder(key)`). */
    private readonly build: (keys: string[]) => S,
    private readonly maxShapes = 64,
  ) {}

  /** The prepared statement for this object's shape and its placeholder values, or null (raw SQL inside). */
  get(obj: object): { stmt: S; values: Record<string, unknown> } | null {
    const values: Record<string, unknown> = {};
    const keys: string[] = [];
    for (const [k, v] of Object.entries(obj)) {
      if (v === undefined) continue;
      if (v instanceof SQL) return null;
      keys.push(k);
      values[k] = v;
    }
    const shape = keys.join(',');
    let stmt = this.cache.get(shape);
    if (!stmt) {
      stmt = this.build(keys);
      if (this.cache.size < this.maxShapes) this.cache.set(shape, stmt);
    }
    return { stmt, values };
  }
}
