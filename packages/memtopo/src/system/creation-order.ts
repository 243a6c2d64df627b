/**
 * Sorts `list` in place by `order` (each item's creation index). A commit usually visits one to
 * three spaces, where an insertion sort allocates nothing; a longer list (many spaces sharing one
 * view) goes to the native sort, which stays O(n log n).
 */
export function sortByCreation<T>(list: T[], order: (item: T) => number): T[] {
  if (list.length > 16) return list.sort((a, b) => order(a) - order(b));
  for (let i = 1; i < list.length; i++) {
    const item = list[i]!;
    const key = order(item);
    let j = i - 1;
    while (j >= 0 && order(list[j]!) > key) {
      list[j + 1] = list[j]!;
      j--;
    }
    list[j + 1] = item;
  }
  return list;
}
