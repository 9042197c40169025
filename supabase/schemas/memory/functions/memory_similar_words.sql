create function coord.memory_similar_words(p_tokens text[])
returns table (tok text, word text, sim float8)
language sql
stable
set search_path = ''
as $$
  select u.t, f.word, f.sim
    from unnest(p_tokens) as u(t),
         lateral (select w.word, extensions.similarity(w.word, u.t)::float8 as sim from coord.memory_words w
                   where w.word operator(extensions.%) u.t
                     -- A typo keeps the length; a shorter or longer word is a different word.
                     and abs(length(w.word) - length(u.t)) <= greatest(2, length(u.t) / 5)
                   order by 2 desc, 1 limit 3) f
$$;
comment on function coord.memory_similar_words(text[]) is
  'Internal to recall: for each unknown query word, up to three vocabulary words of similar length by trigram similarity.';
