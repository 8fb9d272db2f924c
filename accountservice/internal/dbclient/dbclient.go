// Package dbclient stores accounts in an embedded BoltDB file.
package dbclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// FirstAccountID is the id of the first seeded account; the others follow it.
const FirstAccountID = 10000

var accountBucket = []byte("AccountBucket")

// ErrNotFound is returned by QueryAccount when no account has the given id.
var ErrNotFound = errors.New("account not found")

// Account is the stored and served representation of an account.
type Account struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// BoltClient is an account store backed by a BoltDB file.
// It is safe for concurrent use.
type BoltClient struct {
	db     *bolt.DB
	closed atomic.Bool
}

// Open opens (creating if needed) the Bolt file at path. If another process
// holds the file lock, Open gives up after timeout instead of blocking forever.
func Open(path string, timeout time.Duration) (*BoltClient, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("open %s: %w (file locked by another process?)", path, err)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &BoltClient{db: db}, nil
}

// Seed writes n fake accounts with ids FirstAccountID..FirstAccountID+n-1 and
// names Person_0..Person_{n-1} in a single transaction. Keys are overwritten,
// so seeding an existing database again is harmless.
func (c *BoltClient) Seed(n int) error {
	return c.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(accountBucket)
		if err != nil {
			return fmt.Errorf("create bucket: %w", err)
		}
		for i := 0; i < n; i++ {
			acc := Account{
				ID:   strconv.Itoa(FirstAccountID + i),
				Name: "Person_" + strconv.Itoa(i),
			}
			v, err := json.Marshal(acc)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(acc.ID), v); err != nil {
				return fmt.Errorf("put account %s: %w", acc.ID, err)
			}
		}
		return nil
	})
}

// QueryAccount returns the account with the given id, or ErrNotFound.
func (c *BoltClient) QueryAccount(id string) (Account, error) {
	var acc Account
	err := c.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(accountBucket)
		if b == nil {
			return ErrNotFound
		}
		v := b.Get([]byte(id))
		if v == nil {
			return ErrNotFound
		}
		// Unmarshal copies, so nothing refers to Bolt's mmap after the tx.
		return json.Unmarshal(v, &acc)
	})
	if err != nil {
		return Account{}, err
	}
	return acc, nil
}

// Count returns the number of stored accounts.
func (c *BoltClient) Count() (int, error) {
	var n int
	err := c.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(accountBucket); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n, err
}

// IsOpen reports whether the database is open and usable.
func (c *BoltClient) IsOpen() bool {
	return !c.closed.Load()
}

// Close closes the database. Calling it more than once is safe.
func (c *BoltClient) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	return c.db.Close()
}
