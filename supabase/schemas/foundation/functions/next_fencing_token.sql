create function coord.next_fencing_token()
returns bigint
language sql
volatile
set search_path = ''
as $$ select nextval('coord.fencing_seq') $$;
comment on function coord.next_fencing_token() is
  'A strictly increasing fencing token. Every grant of a lock or a task claim takes one; a holder passes it back with '
  'each action, and an action with an older token than the current grant is refused (lock_lost / lease_lost).';
