-- Keys are stored normalised (TypeScript normalises them); this is the database's own guard, so a caller that
-- bypasses the API cannot store a key the overlap rule would misread.
create function coord.lock_key_valid(p_key text)
returns boolean
language sql
immutable
parallel safe
set search_path = ''
as $$
  select p_key is not null
     and length(p_key) between 1 and 1024
     and p_key !~ '[\x01-\x1f\x7f\\]'
     and left(p_key, 1) <> '/'
     and p_key !~ '^[A-Za-z]:/'
     and position('//' in p_key) = 0
     and ('/' || p_key) !~ '/\.\.?(/|$)'
     and p_key !~ '^(api|db|feature):$'
     and cardinality(string_to_array(rtrim(p_key, '/'), '/')) <= 32
$$;
comment on function coord.lock_key_valid(text) is
  'True for a normalised lock key: 1-1024 characters, relative, no control characters or backslashes, no empty, '
  '"." or ".." segments, at most 32 segments. A trailing "/" makes it a scope (directory).';
