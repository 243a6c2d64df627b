/**
 * Watches a stream of text for one string, which may arrive split across chunks (the debug console delivers a
 * byte per exit): only the last `text.length - 1` characters are kept between chunks.
 */
export class UntilMatcher {
  private tail = "";
  private found = false;

  constructor(private readonly text: string) {}

  /** True once the text has appeared, counting this chunk. */
  feed(chunk: string): boolean {
    if (this.found) return true;
    const window = this.tail + chunk;
    if (window.includes(this.text)) {
      this.found = true;
      this.tail = "";
      return true;
    }
    this.tail = window.slice(Math.max(0, window.length - (this.text.length - 1)));
    return false;
  }
}
