ALTER TABLE `tokens` ADD `source` text;--> statement-breakpoint
ALTER TABLE `tokens` ADD `seed_digest` text;