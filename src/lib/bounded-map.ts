// An isolate-lifetime Map that holds at most `limit` entries: setting a key makes it the newest,
// and a new key beyond the limit forgets the oldest (a Map keeps insertion order). For memories
// keyed by what requests send, which must not grow with them.
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly limit: number) {
    super();
  }

  override set(key: K, value: V): this {
    this.delete(key);
    super.set(key, value);
    if (this.size > this.limit) this.delete(this.keys().next().value as K);
    return this;
  }
}
