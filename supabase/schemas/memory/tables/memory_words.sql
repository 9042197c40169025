create table coord.memory_words (
  word text primary key check (length(word) between 4 and 40)
);
comment on table coord.memory_words is
  'Vocabulary of memory summaries, names and tags. Recall corrects misspelt query words against it by trigram '
  'similarity (a small table), instead of trigram-scanning the memories themselves.';
create index memory_words_trgm_idx on coord.memory_words using gin (word extensions.gin_trgm_ops) with (fastupdate = off);

alter table coord.memory_words enable row level security;
