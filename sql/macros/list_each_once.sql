-- list_each_once(items): the items of a list in their order, each once (list_distinct does not
-- keep the order). list_each_once_by(items, keys): the same, an item being the same as another
-- when their keys (a list parallel to items) are equal.
create or replace macro list_each_once_by(items, keys) as (
    list_filter(items, (item, i) -> list_position(keys, keys[i]) = i)
);
create or replace macro list_each_once(items) as (list_each_once_by(items, items));
