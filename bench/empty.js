/* The bench's yardstick for what an async script costs a page at all, before it does anything:
 * this one does nothing. */
